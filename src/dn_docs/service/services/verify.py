"""Checking an uploaded PDF: its clinic seal, changes after sealing, its text against the record.

The service calls the library's :func:`~dn_docs.signing.verification.verify_document`,
the same check ``dn-docs verify`` prints, against the trust roots ``DN_DOCS_TRUST_ROOTS``
lists. Nothing returned is patient data: the record's versions, and its signers by role,
time and method only.
"""

from __future__ import annotations

from typing import Any

from ...errors import RequestError, SigningError
from ...signing.verification import verify_document


def verify_pdf(data: bytes) -> dict[str, Any]:
    """The verdict on ``data`` as the API returns it (see ``VerifyOut``)."""
    if not data.startswith(b"%PDF-"):
        raise RequestError([("file", "is not a PDF")])
    try:
        verdict = verify_document(data)
    except SigningError:
        raise  # the server's trust roots are misconfigured: an operator's problem
    except Exception:  # a damaged file is the caller's input, not our bug
        raise RequestError([("file", "is not a readable PDF")]) from None
    result = verdict.as_dict()
    record = verdict.text.record if verdict.text is not None else {}
    result["generated_at"] = record.get("generated_at")
    result["text_sha256"] = record.get("text_sha256")
    result["versions"] = {k: str(v) for k, v in (record.get("versions") or {}).items()}
    del result["exit_status"]
    return result
