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


class ServiceError(DnDocsError):
    """The HTTP service refuses or cannot serve a call; ``status`` is its HTTP status.

    Messages are shown to API clients and operators: they name ids and fields, never
    patient data.
    """

    status = 500
    title = "Internal error"

    def __init_subclass__(cls, status: int = 500, title: str = "Internal error") -> None:
        super().__init_subclass__()
        cls.status, cls.title = status, title


class NotAuthenticatedError(ServiceError, PermissionError, status=401, title="Not authenticated"):
    """No API key, an unknown one or a revoked one."""


class ForbiddenError(ServiceError, PermissionError, status=403, title="Forbidden"):
    """The caller's role may not do this."""


class NotFoundError(ServiceError, LookupError, status=404, title="Not found"):
    """No such object, or another clinic's."""


class ConflictError(ServiceError, status=409, title="Conflict"):
    """An Idempotency-Key reused for another request, or an object not ready."""


class PayloadTooLargeError(ServiceError, status=413, title="Payload too large"):
    """A body over its limit."""


class UnsupportedMediaTypeError(ServiceError, status=415, title="Unsupported media type"):
    """A body of a media type the call does not take."""


class BusyError(ServiceError, status=429, title="Too many pending renders"):
    """Too many renders are waiting; the client should retry after ``retry_after`` s."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnavailableError(ServiceError, status=503, title="Service unavailable"):
    """The database or the broker cannot be reached."""
