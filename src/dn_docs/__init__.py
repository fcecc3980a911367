"""dn-docs: personalized, localized dry-needling consent forms and aftercare handouts as PDFs.

The pipeline, one module per stage::

    request.py  →  content/  →  compose/  →  pdf/  →  storage.py
    validate       select        localized     WeasyPrint   atomic,
                   cited items   HTML          PDF          owner-only files
"""

from .content import CATALOG_VERSION
from .errors import (
    BatchAbortedError,
    ConsentRefusedError,
    DnDocsError,
    MissingGlyphError,
    MissingRecordError,
    OutputBusyError,
    RecordError,
    RenderError,
    RenderTimeoutError,
    RequestError,
    ResourceFetchError,
    SigningError,
    StorageError,
    UnsupportedLocaleError,
)
from .locales import SUPPORTED as SUPPORTED_LOCALES
from .pipeline import Document, render_document, render_html, render_pdf, warm_up
from .request import DocumentRequest, parse_request
from .version import __version__

__all__ = [
    "CATALOG_VERSION",
    "SUPPORTED_LOCALES",
    "BatchAbortedError",
    "ConsentRefusedError",
    "DnDocsError",
    "Document",
    "DocumentRequest",
    "MissingGlyphError",
    "MissingRecordError",
    "OutputBusyError",
    "RecordError",
    "RenderError",
    "RenderTimeoutError",
    "RequestError",
    "ResourceFetchError",
    "SigningError",
    "StorageError",
    "UnsupportedLocaleError",
    "__version__",
    "parse_request",
    "render_document",
    "render_html",
    "render_pdf",
    "warm_up",
]
