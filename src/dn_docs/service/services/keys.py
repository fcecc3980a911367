"""API keys: made (the secret shown once), checked on every call, revoked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import NotAuthenticatedError, NotFoundError
from ..models import ApiKey, Clinic, Role, utcnow
from ..security import digest_matches, key_id_of, new_api_key
from . import audit
from .access import MANAGERS, Caller, owned


def create_key(
    db: Session,
    clinic_id: str,
    role: Role = Role.ADMIN,
    label: str | None = None,
    actor: str = "cli",
) -> tuple[ApiKey, str]:
    """A new key for the clinic; returns the row and the secret (shown once, not stored)."""
    if db.get(Clinic, clinic_id) is None:
        raise NotFoundError(f"no clinic {clinic_id}")
    made = new_api_key()
    key = ApiKey(
        id=made.key_id, clinic_id=clinic_id, role=role, label=label, key_sha256=made.digest
    )
    db.add(key)
    audit.record(db, clinic_id, actor, "key.create", key.id)
    return key, made.secret


def revoke_key(db: Session, key_id: str, actor: str = "cli") -> ApiKey:
    key = db.get(ApiKey, key_id)
    if key is None:
        raise NotFoundError(f"no API key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(db, key.clinic_id, actor, "key.revoke", key.id)
    return key


def revoke_own_key(db: Session, caller: Caller, key_id: str) -> ApiKey:
    """An admin revokes one of their own clinic's keys (another clinic's is 404)."""
    caller.require(*MANAGERS)
    key = owned(db, ApiKey, key_id, caller, "API key")
    return revoke_key(db, key.id, caller.actor)


def list_keys(db: Session, clinic_id: str) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.clinic_id == clinic_id).order_by(ApiKey.created_at)
    return list(db.scalars(query))


def authenticate(db: Session, presented: str | None) -> Caller:
    """The caller a presented key stands for; 401 if it is missing, unknown or revoked."""
    if not presented:
        raise NotAuthenticatedError("send an API key: Authorization: Bearer <key>")
    key_id = key_id_of(presented)
    key = db.get(ApiKey, key_id) if key_id else None
    if key is None or not digest_matches(presented, key.key_sha256):
        raise NotAuthenticatedError("the API key is not valid")
    if key.revoked_at is not None:
        raise NotAuthenticatedError("the API key has been revoked")
    return Caller(clinic_id=key.clinic_id, actor=f"key:{key.id}", role=Role(key.role))
