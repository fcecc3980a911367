"""The dn-docs version, printed in records and by ``dn-docs --version``."""

__version__ = "1.0.0"
