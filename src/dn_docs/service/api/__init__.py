"""The HTTP API under ``/v1``: thin routers over :mod:`dn_docs.service.services`."""
