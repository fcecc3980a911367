"""Signing a consent: the signatures captured on a tablet go into its boxes, then it is sealed.

The consent the signers were shown is rendered again from its own record (the
request and the generation time) with each signature in its box, its printed name
and the time beside it, and each signer in the record's audit trail; then the clinic
seals it. Everything the consent says is checked to be what the signers read: the
shown PDF must match its record, every signer must have been shown exactly that
PDF (by its SHA-256), and the new document's text must hash to the same value as
the shown one's, so a changed template, catalog or translation is refused instead
of being signed unseen. A shown consent that is sealed must be unchanged since.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from ..compose import compose
from ..errors import MissingRecordError, RecordError, RequestError, SigningError
from ..pdf import Renderer
from ..pipeline import Document, render_document
from ..record import compare_text
from ..request import parse_request
from .captures import SignatureCapture, parse_captures
from .settings import FROM_ENVIRONMENT, SIGNING_KEY, FromEnvironment, Sealing, resolve_sealing
from .verification import Status, verify_document


def sign_consent(
    consent_pdf: bytes,
    captures: Sequence[SignatureCapture | Mapping[str, Any]],
    sealing: Sealing | FromEnvironment = FROM_ENVIRONMENT,
    renderer: Renderer | None = None,
) -> Document:
    """The consent ``consent_pdf`` with the ``captures`` placed in it, sealed.

    ``consent_pdf`` is the document the signers were shown, exactly (sealed or not).
    Raises :class:`~dn_docs.errors.RequestError` naming the field (``consent``,
    ``signatures[0].image``, …) for anything wrong with the input, and
    :class:`~dn_docs.errors.SigningError` when there is no key to seal it with: a
    signed consent without the clinic's seal could be changed without a trace.
    """
    chosen = resolve_sealing(sealing)
    if chosen is None:
        raise SigningError(f"{SIGNING_KEY}: a signed consent must be sealed; no key is set")
    try:
        shown = compare_text(consent_pdf)
    except MissingRecordError:
        raise RequestError([("consent", "is not a dn-docs consent form")]) from None
    except RecordError as exc:
        raise RequestError([("consent", str(exc))]) from None
    except Exception:  # pypdf's parse errors
        raise RequestError([("consent", "is not a readable PDF")]) from None
    if not shown.matches:
        raise RequestError([("consent", "differs from its own record: it was changed")])
    # Its own key's certificates as the roots: the consent was shown sealed with it.
    own = (chosen.key.certificate, *chosen.key.chain)
    if verify_document(consent_pdf, trust_roots=own).status is Status.MODIFIED:
        raise RequestError([("consent", "was changed after it was sealed")])
    if shown.signers:
        raise RequestError([("consent", "is signed already")])
    record = shown.record
    request = parse_request(record["request"])
    if request.kind != "consent":
        raise RequestError([("consent", "is not a consent form")])
    captured = parse_captures(captures, hashlib.sha256(consent_pdf).hexdigest())
    try:
        generated_at = dt.datetime.fromisoformat(str(record["generated_at"]))
    except (KeyError, ValueError):
        raise RequestError([("consent", "its record has no generation time")]) from None
    if compose(request, captured).text_hash != record.get("text_sha256"):
        raise RequestError(
            [
                (
                    "consent",
                    "its text has changed since it was shown (a new template, catalog or "
                    "translation): render it again and show it to the signers",
                )
            ]
        )
    return render_document(
        request, renderer, generated_at=generated_at, sealing=chosen, signatures=captured
    )
