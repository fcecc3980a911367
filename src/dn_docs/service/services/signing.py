"""Consents signed on a tablet: sessions, signatures, the PIN, and the sealed result.

A practitioner (an API caller, or the web app for a signed-in user) starts a session
for a finished consent with a PIN and gets a one-time link, ``/sign/<token>``. The
first browser that opens it is bound to the session by a cookie, and the link opens
nothing after that. On that browser the patient reads the consent and signs, with a
guardian, an interpreter and a witness where the document has their boxes; the
practitioner enters the PIN and signs last. A render process then places every
signature in its box and seals the consent with the clinic's key
(:func:`dn_docs.signing.sign_consent`), and the signed PDF is stored.

Only SHA-256 digests of the link's token and of the cookie's secret are stored. The
PIN's scrypt hash and the captured signatures (names and images) are sealed with the
service's cipher; the plain columns carry roles, times and methods, never names.
Sessions expire after :data:`SESSION_MINUTES`; they are deleted with their document
(the clinic's retention), and unsigned ones a day after they expired.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
import subprocess
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...content import select as select_content
from ...errors import (
    ConflictError,
    DnDocsError,
    NotFoundError,
    RequestError,
    SigningError,
    UnavailableError,
)
from ...locales import SOURCE_LOCALE, negotiate
from ...request import DocumentRequest, parse_request
from ...signing import Role as SignerRole
from ...signing import SignatureCapture, parse_captures, sealing_from_environment
from ..models import Clinic, Document, DocumentStatus, Role, SigningSession, SigningStatus, utcnow
from ..security import cipher
from . import audit, documents
from .access import Caller, owned

log = logging.getLogger("dn_docs.service")

#: How long a session takes signatures after it was started.
SESSION_MINUTES = 30
#: Wrong PINs a session allows in all; then only ending it through the API frees the tablet.
PIN_ATTEMPTS = 5
PIN_PATTERN = re.compile(r"[0-9]{4,12}")
#: The tablet's pages (``dn_docs.web.tablet``) are all under this path.
SIGN_PATH = "/sign"
#: Where the tablet goes when the practitioner leaves it, unless the session says.
CLOSED_PATH = f"{SIGN_PATH}/closed"
#: Resolution of the page images the tablet shows (about 1,200 pixels across a page).
PAGE_DPI = 144
#: An offset from UTC a browser can have, in minutes.
MAX_UTC_OFFSET = 14 * 60
#: The actor the audit log names for what happens on the tablet.
TABLET = "tablet"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_RETURN_TO = re.compile(r"/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,299}")
_STARTERS = (Role.ADMIN, Role.PRACTITIONER)


class Step(StrEnum):
    """What the tablet shows."""

    SIGN = "sign"  # a signer on the patient's side signs
    HANDOVER = "handover"  # the patient's side is done: the practitioner enters the PIN
    PRACTITIONER = "practitioner"  # the practitioner signs
    SEALING = "sealing"
    SIGNED = "signed"
    FAILED = "failed"
    EXPIRED = "expired"
    LOCKED_OUT = "locked_out"  # too many wrong PINs
    ENDED = "ended"


@dataclass(frozen=True)
class StartedSession:
    session: SigningSession
    #: The one-time link's token: shown once, never stored.
    token: str

    @property
    def url(self) -> str:
        return f"{SIGN_PATH}/{self.token}"


@dataclass(frozen=True)
class TabletView:
    """What the tablet shows now, in which language."""

    session_id: str
    step: Step
    #: The patient's language (the document's), and the clinic's for the practitioner.
    locale: str
    staff_locale: str
    pages: int
    roles: tuple[str, ...]
    signed_roles: tuple[str, ...]
    #: The role that signs now (SIGN and PRACTITIONER).
    role: str | None = None
    #: The name the document prints for that role; the others type theirs.
    printed_name: str | None = None
    attempts_left: int = PIN_ATTEMPTS
    #: Where the tablet goes when it is given back.
    return_to: str = CLOSED_PATH
    #: Below this age a guardian signs (for the guardian's statement).
    guardian_age: int | None = None
    #: The practitioner has entered the PIN: the tablet is in their hands.
    staff: bool = False


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _state_context(session_id: str) -> str:
    return f"signing/{session_id}/state"


def _pdf_context(session_id: str) -> str:
    return f"signing/{session_id}/pdf"


def _read_state(session: SigningSession) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(
        cipher().open(session.state_sealed, _state_context(session.id))
    )
    return state


def _write_state(session: SigningSession, state: dict[str, Any]) -> None:
    plain = json.dumps(state, ensure_ascii=False).encode("utf-8")
    session.state_sealed = cipher().seal(plain, _state_context(session.id))


def _pin_hash(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, **_SCRYPT)


def _stored_request(document: Document) -> DocumentRequest:
    assert document.request_sealed is not None
    plain = cipher().open(document.request_sealed, documents.request_context(document.id))
    return parse_request(json.loads(plain))


def signing_roles(request: DocumentRequest, witness: bool) -> list[str]:
    """Who signs, in the order of the document's signature boxes: a guardian (whose
    minor then signs the patient's box, under their own agreement), the patient, an
    interpreter where the document has their box, a witness if asked; the practitioner
    last."""
    selection = select_content(request)
    roles = [SignerRole.GUARDIAN] if selection.guardian_required else []
    roles.append(SignerRole.PATIENT)
    if selection.interpreter_required:
        roles.append(SignerRole.INTERPRETER)
    if witness:
        roles.append(SignerRole.WITNESS)
    roles.append(SignerRole.PRACTITIONER)
    return [role.value for role in roles]


def _checked_sealing() -> None:
    """A signed consent must be sealed: refuse to start without the clinic's key."""
    try:
        configured = sealing_from_environment()
    except SigningError as exc:
        raise ConflictError(f"the clinic's sealing key does not load: {exc}") from None
    if configured is None:
        raise ConflictError(
            "no sealing key is configured (DN_DOCS_SIGNING_KEY): a consent signed on a tablet"
            " is sealed with the clinic's certificate"
        )


def _blocking_session(db: Session, document_id: str) -> SigningSession | None:
    """A session of the document that is signed, sealing, or open and not expired."""
    now = utcnow()
    for session in db.scalars(
        select(SigningSession).where(SigningSession.document_id == document_id)
    ):
        if session.status in (SigningStatus.SIGNED, SigningStatus.SEALING):
            return session
        if session.status == SigningStatus.OPEN and session.expires_at > now:
            return session
    return None


def start_session(
    db: Session,
    caller: Caller,
    document_id: str,
    pin: str,
    *,
    witness: bool = False,
    return_to: str | None = None,
) -> StartedSession:
    """Start signing the caller's clinic's finished consent ``document_id`` on a tablet.

    ``pin`` (4 to 12 digits) lets the practitioner take the tablet back; ``witness``
    adds the witness's signature; ``return_to`` is the path of this service the tablet
    goes to when the practitioner leaves it.
    """
    caller.require(*_STARTERS)
    problems: list[tuple[str, str]] = []
    if not PIN_PATTERN.fullmatch(pin):
        problems.append(("pin", "must be 4 to 12 digits"))
    if return_to is not None and (
        not _RETURN_TO.fullmatch(return_to) or return_to.startswith(SIGN_PATH)
    ):
        problems.append(("return_to", "must be a path of this service, such as /documents"))
    if problems:
        raise RequestError(problems)
    document = documents.get_document(db, caller, document_id)
    if document.kind != "consent":
        raise ConflictError(f"document {document_id} is not a consent: only consents are signed")
    if document.status != DocumentStatus.DONE:
        raise ConflictError(f"document {document_id} has no PDF (yet)")
    _checked_sealing()
    if (blocking := _blocking_session(db, document.id)) is not None:
        raise ConflictError(
            f"document {document_id} is {blocking.status} in signing session {blocking.id}"
        )
    now = utcnow().replace(microsecond=0)
    token = secrets.token_urlsafe(32)
    session = SigningSession(
        clinic_id=caller.clinic_id,
        document_id=document.id,
        status=SigningStatus.OPEN,
        token_sha256=_digest(token),
        roles=signing_roles(_stored_request(document), witness),
        signers=[],
        pin_failures=0,
        staff_unlocked=False,
        return_to=return_to,
        created_by=caller.actor,
        created_at=now,
        expires_at=now + dt.timedelta(minutes=SESSION_MINUTES),
    )
    db.add(session)
    db.flush()
    salt = secrets.token_bytes(16)
    _write_state(
        session, {"pin": {"salt": salt.hex(), "hash": _pin_hash(pin, salt).hex()}, "captures": []}
    )
    audit.record(db, caller.clinic_id, caller.actor, "signing.start", session.id)
    return StartedSession(session, token)


def get_session(db: Session, caller: Caller, session_id: str) -> SigningSession:
    """The caller's clinic's session; another clinic's or an unknown id is 404."""
    return owned(db, SigningSession, session_id, caller, "signing session")


def signed_pdf(db: Session, caller: Caller, session_id: str) -> bytes:
    """The signed, sealed consent: 409 until it is signed."""
    session = get_session(db, caller, session_id)
    if session.status != SigningStatus.SIGNED or session.signed_pdf_sealed is None:
        raise ConflictError(f"signing session {session_id} is {session.status}, not signed")
    audit.record(db, caller.clinic_id, caller.actor, "signing.download", session_id)
    return cipher().open(session.signed_pdf_sealed, _pdf_context(session.id))


def end_session(db: Session, caller: Caller, session_id: str) -> SigningSession:
    """End a session: an unsigned one is ended, and the tablet it locks is freed."""
    session = get_session(db, caller, session_id)
    _release(db, session, caller.actor, "signing.end")
    return session


def _release(db: Session, session: SigningSession, actor: str, action: str) -> None:
    if session.released_at is None:
        session.released_at = utcnow()
    if session.status == SigningStatus.OPEN:
        session.status = SigningStatus.ENDED
        _drop_captures(session)
    audit.record(db, session.clinic_id, actor, action, session.id)


def _drop_captures(session: SigningSession) -> None:
    state = _read_state(session)
    state["captures"] = []
    _write_state(session, state)


# The tablet ------------------------------------------------------------------------------


def open_link(db: Session, token: str) -> tuple[SigningSession, str]:
    """Bind the browser that opens ``token``'s link to its session: the session and the
    cookie value that is the browser's key to it from now on. The link works once,
    while the session is open and not expired; otherwise 404."""
    session = db.scalar(select(SigningSession).where(SigningSession.token_sha256 == _digest(token)))
    now = utcnow()
    if (
        session is None
        or session.device_sha256 is not None
        or session.status != SigningStatus.OPEN
        or session.expires_at <= now
    ):
        raise NotFoundError("no such signing link, or it was used or has expired")
    secret = secrets.token_urlsafe(32)
    session.device_sha256, session.opened_at = _digest(secret), now
    audit.record(db, session.clinic_id, TABLET, "signing.open", session.id)
    return session, f"{session.id}.{secret}"


def link_session_id(db: Session, token: str) -> str | None:
    """The id of the session ``token`` links to, if any."""
    return db.scalar(select(SigningSession.id).where(SigningSession.token_sha256 == _digest(token)))


def device_session(db: Session, cookie: str | None) -> SigningSession | None:
    """The session a tablet's cookie is the key to, or None."""
    session_id, _, secret = (cookie or "").partition(".")
    if not re.fullmatch(r"[0-9a-f]{32}", session_id) or not secret:
        return None
    session = db.get(SigningSession, session_id)
    if session is None or session.device_sha256 is None:
        return None
    if not hmac.compare_digest(session.device_sha256, _digest(secret)):
        return None
    return session


def locks(session: SigningSession) -> bool:
    """Whether the session still holds its tablet to its own pages."""
    return session.released_at is None


def _staff_locale(request: DocumentRequest) -> str:
    try:
        return negotiate(request.clinic.language)
    except RequestError:
        return SOURCE_LOCALE


def tablet_view(db: Session, session: SigningSession) -> TabletView:
    document = db.get(Document, session.document_id)
    if document is None:
        raise NotFoundError("no such signing session")
    request = _stored_request(document)
    signed = tuple(entry["role"] for entry in session.signers)
    role = next((r for r in session.roles if r not in signed), None)
    settled = {
        SigningStatus.SIGNED: Step.SIGNED,
        SigningStatus.SEALING: Step.SEALING,
        SigningStatus.FAILED: Step.FAILED,
        SigningStatus.ENDED: Step.ENDED,
    }
    if session.status in settled:
        step, role = settled[SigningStatus(session.status)], None
    elif session.pin_failures >= PIN_ATTEMPTS and not session.staff_unlocked:
        step = Step.LOCKED_OUT
    elif session.expires_at <= utcnow():
        step = Step.EXPIRED
    elif role == SignerRole.PRACTITIONER:
        step = Step.PRACTITIONER if session.staff_unlocked else Step.HANDOVER
    else:
        step = Step.SIGN
    printed = {
        SignerRole.PATIENT.value: request.patient.name,
        SignerRole.PRACTITIONER.value: request.practitioner.name,
    }
    return TabletView(
        session_id=session.id,
        step=step,
        locale=request.locale,
        staff_locale=_staff_locale(request),
        pages=document.pages or 0,
        roles=tuple(session.roles),
        signed_roles=signed,
        role=role if step in (Step.SIGN, Step.PRACTITIONER) else None,
        printed_name=printed.get(role or "") if step in (Step.SIGN, Step.PRACTITIONER) else None,
        attempts_left=max(0, PIN_ATTEMPTS - session.pin_failures),
        return_to=session.return_to or CLOSED_PATH,
        guardian_age=select_content(request).guardian_age,
        staff=session.staff_unlocked,
    )


def shown_pdf(db: Session, session: SigningSession) -> bytes:
    """The consent the signers are shown."""
    document = db.get(Document, session.document_id)
    pdf = documents.finished_pdf(document) if document is not None else None
    if pdf is None:
        raise NotFoundError("the document of this signing session is gone")
    return pdf


def page_png(pdf: bytes, number: int) -> bytes:
    """Page ``number`` (from 1) of ``pdf`` as a PNG, drawn by poppler's ``pdftoppm``."""
    command = ["pdftoppm", "-png", "-r", str(PAGE_DPI), "-f", str(number), "-l", str(number)]
    try:
        done = subprocess.run(
            [*command, "-singlefile", "-"], input=pdf, capture_output=True, timeout=60, check=False
        )
    except FileNotFoundError:
        raise UnavailableError(
            "pdftoppm is not installed (poppler-utils): the tablet shows the consent's pages"
            " with it"
        ) from None
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        raise NotFoundError(f"no page {number}")
    return done.stdout


def add_signature(
    db: Session,
    session: SigningSession,
    *,
    role: str,
    image: bytes | None,
    name: str | None,
    user_agent: str,
    utc_offset_minutes: int = 0,
) -> bool:
    """Take the signature of the signer the session waits for: drawn (``image``, a
    PNG) or typed (``image`` None, ``name`` the signature). Returns True when that was
    the practitioner's, the last: the consent is then to be sealed (``jobs.SIGN``).

    Problems raise :class:`RequestError` naming the form's field (``image``, ``name``).
    """
    view = tablet_view(db, session)
    if view.step not in (Step.SIGN, Step.PRACTITIONER) or role != view.role:
        raise ConflictError("this signature is not the one the signing session waits for")
    typed = (name or "").strip()
    if not typed and (image is None or view.printed_name is None):
        raise RequestError([("name", "must not be empty")])
    offset = utc_offset_minutes if abs(utc_offset_minutes) <= MAX_UTC_OFFSET else 0
    zone = dt.timezone(dt.timedelta(minutes=offset))
    shown_sha256 = hashlib.sha256(shown_pdf(db, session)).hexdigest()
    capture: dict[str, Any] = {
        "role": role,
        "name": typed if image is None or view.printed_name is None else view.printed_name,
        "signed_at": utcnow().astimezone(zone).replace(microsecond=0),
        "user_agent": user_agent[:512] or "unknown",
        "document_sha256": shown_sha256,
        "image": image,
    }
    try:
        (parsed,) = parse_captures([capture], shown_sha256)
    except RequestError as exc:
        # ``signatures[0].image`` → ``image``: the form's own field names.
        raise RequestError(
            [(field.rsplit(".", 1)[-1], reason) for field, reason in exc.errors]
        ) from None
    state = _read_state(session)
    stored = parsed.model_dump(mode="json", exclude={"image"})
    # As SignatureCapture reads it back from JSON (val_json_bytes="base64").
    stored["image"] = base64.b64encode(parsed.image).decode("ascii") if parsed.image else None
    state["captures"].append(stored)
    _write_state(session, state)
    entry = {
        "role": role,
        "signed_at": parsed.signed_at.isoformat(timespec="seconds"),
        "method": parsed.method,
    }
    session.signers = [*session.signers, entry]
    audit.record(db, session.clinic_id, TABLET, f"signing.sign.{role}", session.id)
    if role != SignerRole.PRACTITIONER:
        return False
    session.status = SigningStatus.SEALING
    return True


def enter_pin(
    db: Session, session: SigningSession, pin: str, purpose: Literal["practitioner", "leave"]
) -> bool:
    """Check the practitioner's PIN on the tablet; right, it unlocks the practitioner's
    signature (``practitioner``) or gives the tablet back (``leave``).

    Each attempt takes one of the session's :data:`PIN_ATTEMPTS` first, in one atomic
    update, and a right PIN gives it back: attempts made at once cannot exceed the
    limit.
    """
    taken = db.execute(
        update(SigningSession)
        .where(SigningSession.id == session.id, SigningSession.pin_failures < PIN_ATTEMPTS)
        .values(pin_failures=SigningSession.pin_failures + 1)
        .execution_options(synchronize_session=False)
    )
    db.expire(session, ["pin_failures"])
    if not getattr(taken, "rowcount", 0):
        return False
    stored = _read_state(session)["pin"]
    entered = pin.strip()
    right = bool(PIN_PATTERN.fullmatch(entered)) and hmac.compare_digest(
        _pin_hash(entered, bytes.fromhex(stored["salt"])), bytes.fromhex(stored["hash"])
    )
    if not right:
        audit.record(db, session.clinic_id, TABLET, "signing.pin_wrong", session.id)
        if session.pin_failures >= PIN_ATTEMPTS:
            audit.record(db, session.clinic_id, TABLET, "signing.locked_out", session.id)
        return False
    session.pin_failures -= 1
    if purpose == "practitioner":
        session.staff_unlocked = True
        audit.record(db, session.clinic_id, TABLET, "signing.unlock", session.id)
    else:
        _release(db, session, TABLET, "signing.leave")
    return True


def leave(db: Session, session: SigningSession) -> bool:
    """Give the tablet back without a PIN: only once the practitioner has entered it."""
    if not session.staff_unlocked:
        return False
    _release(db, session, TABLET, "signing.leave")
    return True


# In a render process -------------------------------------------------------------------------


def seal_stored(session_id: str) -> None:
    """Place a session's signatures in its consent and seal it (a render process's job)."""
    from .. import db

    with db.session() as session:
        found = session.get(SigningSession, session_id)
        if found is None or found.status != SigningStatus.SEALING:
            return
        document = session.get(Document, found.document_id)
        shown = documents.finished_pdf(document) if document is not None else None
        captures = _read_state(found)["captures"]
        logo_name = _stored_request(document).clinic.logo if document is not None else None
        clinic = session.get(Clinic, found.clinic_id) if logo_name else None
        if clinic is not None:
            _ = clinic.logo  # loaded now, used after the session ends
    outcome: dict[str, Any]
    try:
        if shown is None:
            raise ConflictError("the consent is gone")
        from ...signing import sign_consent

        parsed = [SignatureCapture.model_validate_json(json.dumps(c)) for c in captures]
        with documents.clinic_logo(clinic, logo_name):
            signed = sign_consent(shown, parsed)
    except (RequestError, SigningError, ConflictError) as exc:
        # Written for staff: fields and reasons, no patient data.
        log.warning("signing session %s failed: %s", session_id, type(exc).__name__)
        outcome = {"status": SigningStatus.FAILED, "error": str(exc)}
    except DnDocsError as exc:
        log.warning("signing session %s failed: %s", session_id, type(exc).__name__)
        outcome = {"status": SigningStatus.FAILED, "error": str(exc)}
    except Exception as exc:
        log.error("signing session %s failed: %s", session_id, type(exc).__name__)
        outcome = {"status": SigningStatus.FAILED, "error": "internal error while sealing"}
    else:
        outcome = {
            "status": SigningStatus.SIGNED,
            "signed_pdf_sealed": cipher().seal(signed.pdf, _pdf_context(session_id)),
            "signed_sha256": signed.sha256,
            "signed_bytes": len(signed.pdf),
            "signed_at": utcnow(),
        }
        log.info("signing session %s sealed: %d pages", session_id, signed.pages)
    with db.session() as session:
        found = session.get(SigningSession, session_id)
        if found is None or found.status != SigningStatus.SEALING:
            return
        for name, value in outcome.items():
            setattr(found, name, value)
        # The signatures are in the signed PDF now, or not wanted: keep only the PIN.
        _drop_captures(found)
        action = "signing.seal" if found.status == SigningStatus.SIGNED else "signing.fail"
        audit.record(session, found.clinic_id, "system", action, session_id)


def sealing_sessions(db: Session) -> list[str]:
    """Sessions whose sealing a stopped server left unfinished."""
    query = select(SigningSession.id).where(SigningSession.status == SigningStatus.SEALING)
    return list(db.scalars(query))
