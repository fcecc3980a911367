"""The consent record embedded in every consent PDF, and the text compared against it.

``consent-record.json`` holds the request, the content item ids, the template,
catalog and translation versions, the generation time, the SHA-256 of the
document's composed text (its first 12 hex digits are printed in every footer
stamp), a SHA-256 of the text drawn on each page and the signers: the audit trail
of signatures placed in the document (role, printed name, time, user agent, how
they signed, and the SHA-256 of the document each signer was shown; see
:mod:`dn_docs.signing.captures`). :func:`compare_text` recomputes the hashes from
the PDF and compares them with the record. The record alone proves nothing, since
anyone can rewrite it; the clinic's seal over the whole file does (see
:mod:`dn_docs.signing.verification`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader

from .compose import ComposedDocument
from .compose.text import squash
from .errors import MissingRecordError, RecordError
from .pdf.embed import EmbeddedFile, Sealer
from .pdf.fingerprint import text_fingerprint
from .version import __version__

RECORD_NAME = "consent-record.json"
RECORD_FORMAT = "dn-docs consent record 1"
RECORD_DESCRIPTION = "What this consent form was made from"


def _fingerprints(reader: PdfReader) -> list[str]:
    """The text fingerprint of each page of a finished PDF."""
    fingerprints = []
    for page in reader.pages:
        # The raw streams, not pypdf's parsed ContentStream: parsing costs ~50 ms a page.
        contents = page.get("/Contents")
        streams = contents.get_object() if contents is not None else []
        if not isinstance(streams, list):
            streams = [streams]
        fingerprints.append(
            text_fingerprint(b"".join(stream.get_object().get_data() for stream in streams))
        )
    return fingerprints


def record_file(composed: ComposedDocument, generated_at: dt.datetime) -> Sealer:
    """What seals a consent: its record, completed with the fingerprints of its pages."""

    def seal(page_fingerprints: list[str]) -> EmbeddedFile:
        return EmbeddedFile(
            name=RECORD_NAME,
            data=build_record(composed, page_fingerprints, generated_at),
            description=RECORD_DESCRIPTION,
            created=generated_at,
        )

    return seal


def build_record(
    composed: ComposedDocument, page_fingerprints: list[str], generated_at: dt.datetime
) -> bytes:
    record = {
        "format": RECORD_FORMAT,
        "generator": f"dn-docs {__version__}",
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "request": composed.request.model_dump(mode="json"),
        "content_items": list(composed.selection.ids),
        "versions": {
            "template": composed.stamp["template"],
            "catalog": composed.stamp["catalog"],
            "translation": composed.translation_version,
        },
        "text_sha256": composed.text_hash,
        "page_text_sha256": page_fingerprints,
        "signers": [signature.audit_entry() for signature in composed.signatures],
    }
    return json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


@dataclass
class TextComparison:
    """The PDF's text against its record: ``problems`` lists each difference."""

    record: dict[str, Any]
    pages: int
    problems: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.problems

    @property
    def signers(self) -> list[dict[str, Any]]:
        signers = self.record.get("signers", [])
        return [s for s in signers if isinstance(s, dict)] if isinstance(signers, list) else []

    def __str__(self) -> str:
        if self.matches:
            return f"matches the consent record ({self.pages} pages)"
        return "differs from the consent record: " + "; ".join(self.problems)


def read_record(pdf: bytes) -> dict[str, Any]:
    return _record(PdfReader(io.BytesIO(pdf)))


def _record(reader: PdfReader) -> dict[str, Any]:
    files = reader.attachments.get(RECORD_NAME)
    if not files:
        raise MissingRecordError(f"no {RECORD_NAME} is embedded: not a dn-docs consent form")
    try:
        record = json.loads(files[0])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RecordError(f"the embedded {RECORD_NAME} is not valid JSON") from None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise RecordError(f"the embedded {RECORD_NAME} is not a {RECORD_FORMAT}")
    return record


def compare_text(pdf: bytes) -> TextComparison:
    """Compare the PDF's text with its embedded record and its footer stamps.

    Raises :class:`~dn_docs.errors.MissingRecordError` when there is no record and
    :class:`~dn_docs.errors.RecordError` when it is not one dn-docs wrote.
    """
    reader = PdfReader(io.BytesIO(pdf))
    record = _record(reader)
    result = TextComparison(record=record, pages=len(reader.pages))
    expected = list(record.get("page_text_sha256", []))
    actual = _fingerprints(reader)
    if len(actual) != len(expected):
        result.problems.append(f"{len(actual)} pages, the record says {len(expected)}")
    changed = [str(n) for n, (a, e) in enumerate(zip(actual, expected, strict=False), 1) if a != e]
    if changed:
        result.problems.append("text differs from the record on page " + ", ".join(changed))
    stamp = str(record.get("text_sha256", ""))[:12]
    for number, page in enumerate(reader.pages, start=1):
        if stamp not in squash(page.extract_text() or ""):
            result.problems.append(
                f"page {number} footer stamp does not match the record ({stamp})"
            )
    return result
