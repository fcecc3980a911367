"""Verifying a document: its seal, any change made after sealing, and its text against the record.

:func:`verify_document` returns a :class:`DocumentVerification`: one status, the
problems behind it, what each seal says (signer, signing time, timestamp authority,
changes after signing) and how the text compares with the embedded consent record.
``dn-docs verify`` prints it; a web service renders :meth:`DocumentVerification.as_dict`.

The status, in order of precedence:

* ``modified`` (exit status 1): a seal does not match the bytes it covers, something
  other than signature upkeep was added after a seal, or the text differs from the
  record;
* ``unsigned`` (2): there is no seal, so nothing shows who made the document (the
  record alone proves nothing: anyone can rewrite it);
* ``untrusted`` (2): a seal or its timestamp was made with a certificate that does not
  lead to one of the trust roots (``DN_DOCS_TRUST_ROOTS``);
* ``intact`` (0): sealed by a trusted signer, unchanged since, and the text matches.

Nothing in the result is patient data: the record's signers are listed by role, time
and method only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import (
    DocumentTimestampStatus,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    TimestampSignatureStatus,
)
from pyhanko_certvalidator import ValidationContext

from ..errors import DnDocsError, MissingRecordError, RecordError
from ..record import TextComparison, compare_text
from .blocking import run_blocking
from .settings import TRUST_ROOTS, trust_roots_from_environment


class Status(StrEnum):
    INTACT = "intact"
    MODIFIED = "modified"
    UNSIGNED = "unsigned"
    UNTRUSTED = "untrusted"

    @property
    def exit_status(self) -> int:
        return {"intact": 0, "modified": 1}.get(self.value, 2)


class UnreadablePdfError(DnDocsError, ValueError):
    """The file is not a PDF that can be checked."""


#: A sealing certificate may be made for signatures or for seals: either usage will do.
KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
)

#: What was added after a seal, by pyHanko's modification level.
_CHANGES = {
    ModificationLevel.NONE: "none",
    ModificationLevel.LTA_UPDATES: "signature upkeep only (validation data, document timestamps)",
    ModificationLevel.FORM_FILLING: "signatures or form fields were added",
    ModificationLevel.ANNOTATIONS: "annotations were changed",
    ModificationLevel.OTHER: "the content was changed",
}


def _name(name: asn1_x509.Name) -> str:
    parts = name.native
    common = parts.get("common_name")
    organization = parts.get("organization_name")
    if common and organization:
        return f"{common}, {organization}"
    return str(common or organization or name.human_friendly)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(dt.UTC) if moment is not None else None


def _shown(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


@dataclass(frozen=True)
class Timestamp:
    """An RFC 3161 timestamp on a seal: when, and which authority says so."""

    time: dt.datetime
    authority: str
    intact: bool
    trusted: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "authority": self.authority,
            "intact": self.intact,
            "trusted": self.trusted,
        }


@dataclass(frozen=True)
class SealCheck:
    """What one seal (a PDF signature or document timestamp) says about the document."""

    field: str
    kind: str  # "signature" or "document timestamp"
    signer: str
    issuer: str
    certificate_sha256: str
    #: The signing time the signer's own clock gave; the timestamp's is the trusted one.
    signed_at: dt.datetime | None
    timestamp: Timestamp | None
    #: The signed bytes are unchanged and the signature over them is correct.
    intact: bool
    trusted: bool
    trust_problem: str | None
    covers_whole_file: bool
    changes_after_signing: str
    #: Why the document counts as modified because of this seal (empty: it does not).
    modified_because: tuple[str, ...] = ()

    @property
    def fully_trusted(self) -> bool:
        return self.trusted and (self.timestamp is None or self.timestamp.trusted)

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "kind": self.kind,
            "signer": self.signer,
            "issuer": self.issuer,
            "certificate_sha256": self.certificate_sha256,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "timestamp": self.timestamp.as_dict() if self.timestamp else None,
            "intact": self.intact,
            "trusted": self.trusted,
            "trust_problem": self.trust_problem,
            "covers_whole_file": self.covers_whole_file,
            "changes_after_signing": self.changes_after_signing,
        }

    def lines(self) -> list[str]:
        trust = "trusted" if self.trusted else f"NOT trusted: {self.trust_problem}"
        lines = [f"{self.kind} {self.field}: {self.signer} ({trust})"]
        lines.append(f"  issued by: {self.issuer}")
        if self.signed_at is not None:
            lines.append(f"  signing time: {_shown(self.signed_at)} (the signer's clock)")
        if self.timestamp is not None:
            stamp = self.timestamp
            state = "trusted" if stamp.trusted and stamp.intact else "NOT trusted"
            lines.append(f"  timestamp: {_shown(stamp.time)} from {stamp.authority} ({state})")
        else:
            lines.append("  timestamp: none")
        lines.append(f"  changes after signing: {self.changes_after_signing}")
        return lines


@dataclass(frozen=True)
class DocumentVerification:
    """The verdict on one document and everything it rests on."""

    status: Status
    problems: tuple[str, ...]
    seals: tuple[SealCheck, ...]
    #: The text against the consent record; None when the document has no record.
    text: TextComparison | None
    notes: tuple[str, ...] = field(default=())

    @property
    def exit_status(self) -> int:
        return self.status.exit_status

    @property
    def signers(self) -> list[dict[str, Any]]:
        """The record's audit trail without names or user agents (those are patient data)."""
        if self.text is None:
            return []
        keep = ("role", "signed_at", "method", "document_sha256")
        return [{k: entry.get(k) for k in keep} for entry in self.text.signers]

    def __str__(self) -> str:
        return f"{self.status}: {'; '.join(self.problems)}" if self.problems else str(self.status)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "exit_status": self.exit_status,
            "problems": list(self.problems),
            "notes": list(self.notes),
            "seals": [seal.as_dict() for seal in self.seals],
            "text": None
            if self.text is None
            else {
                "matches_record": self.text.matches,
                "problems": list(self.text.problems),
                "pages": self.text.pages,
            },
            "signers": self.signers,
        }

    def lines(self) -> list[str]:
        """The report ``dn-docs verify`` prints under its first line."""
        lines = [line for seal in self.seals for line in seal.lines()]
        if self.text is not None:
            lines.append(f"text: {self.text}")
        for signer in self.signers:
            lines.append(f"signer: {signer['role']} at {signer['signed_at']} ({signer['method']})")
        lines.extend(self.notes)
        return lines


def verify_document(
    pdf: bytes, trust_roots: Sequence[x509.Certificate] | None = None
) -> DocumentVerification:
    """Check ``pdf``'s seals against ``trust_roots`` (default: ``DN_DOCS_TRUST_ROOTS``),
    what changed after each seal, and its text against its consent record.

    Raises :class:`UnreadablePdfError` for a file that is not a readable PDF and
    :class:`~dn_docs.errors.SigningError` for unreadable trust roots.
    """
    roots = tuple(trust_roots_from_environment() if trust_roots is None else trust_roots)
    problems: list[str] = []
    notes: list[str] = []
    text: TextComparison | None = None
    try:
        text = compare_text(pdf)
        problems.extend(f"text {problem}" for problem in text.problems)
    except MissingRecordError:
        notes.append("no consent record (an aftercare handout, or not made by dn-docs)")
    except RecordError as exc:
        problems.append(str(exc))
    except Exception:  # pypdf's many parse errors: the file itself is not readable
        raise UnreadablePdfError("not a readable PDF") from None
    seals = _check_seals(pdf, roots)
    for seal in seals:
        problems.extend(seal.modified_because)
    if problems:
        status = Status.MODIFIED
    elif not seals:
        status = Status.UNSIGNED
        problems.append("the document carries no seal")
    elif not all(seal.fully_trusted for seal in seals):
        status = Status.UNTRUSTED
        problems.extend(
            f"{seal.field}: {seal.signer} is not trusted"
            for seal in seals
            if not seal.fully_trusted
        )
        if not roots:
            problems.append(f"no trust roots are configured ({TRUST_ROOTS})")
    else:
        status = Status.INTACT
    return DocumentVerification(
        status=status,
        problems=tuple(problems),
        seals=seals,
        text=text,
        notes=tuple(notes),
    )


def _check_seals(pdf: bytes, roots: Sequence[x509.Certificate]) -> tuple[SealCheck, ...]:
    anchors = [
        asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER)) for root in roots
    ]

    async def check_all() -> tuple[SealCheck, ...]:
        reader = PdfFileReader(io.BytesIO(pdf))
        checks = [_check(embedded, anchors) for embedded in reader.embedded_signatures]
        return tuple(await asyncio.gather(*checks))

    try:
        return run_blocking(check_all())
    except PdfError as exc:
        raise UnreadablePdfError(f"not a readable PDF ({exc})") from None


async def _check(embedded: EmbeddedPdfSignature, anchors: list[asn1_x509.Certificate]) -> SealCheck:
    # No fetching: checking a document sends nothing anywhere. Certificates without
    # revocation information (a development CA's) are not failed for it.
    context = ValidationContext(trust_roots=anchors, allow_fetching=False)
    is_timestamp = embedded.sig_object_type == "/DocTimeStamp"
    try:
        status: PdfSignatureStatus | DocumentTimestampStatus
        if is_timestamp:
            status = await async_validate_pdf_timestamp(embedded, validation_context=context)
        else:
            status = await async_validate_pdf_signature(
                embedded, signer_validation_context=context, key_usage_settings=KEY_USAGE
            )
    except (SignatureValidationError, PdfError, ValueError) as exc:
        return _broken(embedded, f"{embedded.field_name}: the seal cannot be checked ({exc})")
    return _seal_check(embedded, status, is_timestamp)


def _broken(embedded: EmbeddedPdfSignature, reason: str) -> SealCheck:
    return SealCheck(
        field=str(embedded.field_name),
        kind="signature",
        signer="unknown",
        issuer="unknown",
        certificate_sha256="",
        signed_at=None,
        timestamp=None,
        intact=False,
        trusted=False,
        trust_problem="not checked",
        covers_whole_file=False,
        changes_after_signing="unknown",
        modified_because=(reason,),
    )


def _trust_problem(status: PdfSignatureStatus | DocumentTimestampStatus) -> str:
    indication = status.trust_problem_indic
    if indication is None:
        return "unknown"
    # The indications are enum members (AdESIndeterminate, AdESFailure).
    return str(getattr(indication, "name", indication)).lower().replace("_", " ")


def _timestamp(status: TimestampSignatureStatus | None) -> Timestamp | None:
    if status is None:
        return None
    return Timestamp(
        time=status.timestamp.astimezone(dt.UTC),
        authority=_name(status.signing_cert.subject),
        intact=status.intact and status.valid,
        trusted=status.trusted,
    )


def _seal_check(
    embedded: EmbeddedPdfSignature,
    status: PdfSignatureStatus | DocumentTimestampStatus,
    is_timestamp: bool,
) -> SealCheck:
    name = str(embedded.field_name)
    intact = status.intact and status.valid
    coverage = status.coverage
    level = status.modification_level
    whole_file = coverage == SignatureCoverageLevel.ENTIRE_FILE
    if whole_file:
        changes = _CHANGES[ModificationLevel.NONE]
    elif coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        changes = "the seal does not cover the revision it belongs to"
    else:
        changes = _CHANGES[level] if level is not None else "unknown"
    modified: list[str] = []
    if not intact:
        modified.append(f"{name}: the sealed bytes were changed or the seal is damaged")
    elif not whole_file and (
        coverage != SignatureCoverageLevel.ENTIRE_REVISION
        or level is None
        or level > ModificationLevel.LTA_UPDATES
        or status.docmdp_ok is False
    ):
        modified.append(f"{name}: changed after it was sealed ({changes})")
    if is_timestamp:
        assert isinstance(status, DocumentTimestampStatus)
        signed_at: dt.datetime | None = status.timestamp
        stamp = _timestamp(status)
    else:
        assert isinstance(status, PdfSignatureStatus)
        signed_at = status.signer_reported_dt or embedded.self_reported_timestamp
        stamp = _timestamp(status.timestamp_validity)
    certificate = status.signing_cert
    return SealCheck(
        field=name,
        kind="document timestamp" if is_timestamp else "signature",
        signer=_name(certificate.subject),
        issuer=_name(certificate.issuer),
        certificate_sha256=certificate.sha256.hex(),
        signed_at=_utc(signed_at),
        timestamp=stamp,
        intact=intact,
        trusted=status.trusted,
        trust_problem=None if status.trusted else _trust_problem(status),
        covers_whole_file=whole_file,
        changes_after_signing=changes,
        modified_because=tuple(modified),
    )
