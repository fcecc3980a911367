"""``Idempotency-Key``: the first response to a POST is kept (sealed) and replayed.

The same key with the same method, path and body gets the first response again; with
anything else, or while the first call is still running, 409.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...errors import ConflictError, RequestError
from ..models import IdempotencyRecord
from ..security import cipher

MAX_KEY = 255


@dataclass(frozen=True)
class Replay:
    status_code: int
    headers: dict[str, str]
    body: bytes


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _context(clinic_id: str, key: str) -> str:
    return f"idempotency/{clinic_id}/{hashlib.sha256(key.encode()).hexdigest()}"


def begin(db: Session, clinic_id: str, key: str, print_: str) -> Replay | None:
    """The stored response to replay, or None after claiming the key for this call."""
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise RequestError([("Idempotency-Key", f"must be 1 to {MAX_KEY} printable characters")])
    record = db.get(IdempotencyRecord, (clinic_id, key))
    if record is None:
        try:
            with db.begin_nested():
                db.add(IdempotencyRecord(clinic_id=clinic_id, key=key, fingerprint=print_))
        except IntegrityError:
            raise ConflictError("a call with this Idempotency-Key is still running") from None
        return None
    if record.fingerprint != print_:
        raise ConflictError("this Idempotency-Key was used for a different request")
    if not record.complete or record.body_sealed is None:
        raise ConflictError("a call with this Idempotency-Key is still running")
    body = cipher().open(record.body_sealed, _context(clinic_id, key))
    return Replay(record.status_code or 200, dict(record.headers or {}), body)


def complete(
    db: Session, clinic_id: str, key: str, status_code: int, headers: dict[str, str], body: bytes
) -> None:
    record = db.get(IdempotencyRecord, (clinic_id, key))
    if record is None:  # purged meanwhile
        return
    record.complete, record.status_code, record.headers = True, status_code, headers
    record.body_sealed = cipher().seal(body, _context(clinic_id, key))


def abandon(db: Session, clinic_id: str, key: str) -> None:
    """Release the key of a call that failed, so a retry runs again."""
    record = db.get(IdempotencyRecord, (clinic_id, key))
    if record is not None and not record.complete:
        db.delete(record)
