"""The dn-docs exception hierarchy.

Every error dn-docs raises on purpose derives from :class:`DnDocsError`, and each
subclass also inherits the built-in it resembles, so callers can catch either.
Messages are written for clinic staff: one line, naming the field and the reason,
and never carrying patient data (names, birth dates, ids or screening answers).
"""

from __future__ import annotations


class DnDocsError(Exception):
    """Base class of every error raised by dn-docs."""


class RequestError(DnDocsError, ValueError):
    """A document request is invalid. ``errors`` holds one ``(field, reason)`` per problem."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in errors))

    @property
    def first(self) -> str:
        field, reason = self.errors[0]
        return f"{field}: {reason}"


class UnsupportedLocaleError(RequestError, LookupError):
    """The requested language is not one dn-docs ships."""


class ConsentRefusedError(DnDocsError, ValueError):
    """Screening answers contain an absolute contraindication, so no consent form is issued."""

    #: What reports, results and logs say: which answer it was is patient data.
    public_message = "consent refused: an absolute contraindication in the screening answers"

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(
            "consent refused: absolute contraindication ("
            + ", ".join(reasons)
            + "); dry needling must not go ahead, so no consent form was produced"
        )


class RenderError(DnDocsError, RuntimeError):
    """The document could not be turned into a PDF."""


class MissingGlyphError(RenderError):
    """A character has no glyph in any installed font, so it would print as a box."""


class ResourceFetchError(RenderError, PermissionError):
    """The renderer tried to load something that is not one of dn-docs' own assets."""


class RenderTimeoutError(RenderError, TimeoutError):
    """Rendering took longer than the configured limit."""


class StorageError(DnDocsError, OSError):
    """An output file could not be written where it was asked for."""


class OutputBusyError(StorageError):
    """Another batch is writing to the same output folder."""


class BatchAbortedError(DnDocsError, RuntimeError):
    """A batch could not go on (no worker, no broker); what was done is recorded."""


class SigningError(DnDocsError):
    """A document could not be sealed: the key, its passphrase, the certificate or the
    timestamp authority is missing, wrong or unreachable."""


class RecordError(DnDocsError, ValueError):
    """A PDF's embedded consent record is not one dn-docs wrote."""


class MissingRecordError(RecordError, LookupError):
    """A PDF has no consent record: not a dn-docs consent form."""
