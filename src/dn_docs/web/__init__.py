"""The service's web pages."""
