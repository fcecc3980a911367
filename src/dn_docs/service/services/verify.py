"""Checking an uploaded consent PDF against its embedded record.

The one place the service calls the library's verification: re-point it here when
the library's ``verify`` changes shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import DnDocsError, RequestError
from ...record import verify as verify_record


@dataclass(frozen=True)
class VerifyResult:
    """What the API returns: no patient data from the record, only its versions."""

    intact: bool
    problems: list[str] = field(default_factory=list)
    generated_at: str | None = None
    text_sha256: str | None = None
    versions: dict[str, str] = field(default_factory=dict)


def verify_pdf(data: bytes) -> VerifyResult:
    if not data.startswith(b"%PDF-"):
        raise RequestError([("file", "is not a PDF")])
    try:
        result = verify_record(data)
    except DnDocsError as exc:
        raise RequestError([("file", str(exc))]) from None
    except Exception:  # a damaged file is the caller's input, not our bug
        raise RequestError([("file", "is not a readable PDF")]) from None
    record = result.record
    return VerifyResult(
        intact=result.intact,
        problems=list(result.problems),
        generated_at=record.get("generated_at"),
        text_sha256=record.get("text_sha256"),
        versions={k: str(v) for k, v in (record.get("versions") or {}).items()},
    )
