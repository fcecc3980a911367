"""The web app's sign-in sessions and its limit on failed sign-ins.

A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256,
so a copy of the database signs no one in. Failed sign-ins are counted per account and
client under a keyed digest (no email or address is stored), in the database, so every
server of a deployment counts the same failures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..models import LoginFailure, User, WebSession, utcnow
from ..security import web_digest
from . import audit
from .users import normalized_email, verify_password

#: Failed sign-ins allowed per account and client within ``FAILURE_WINDOW``.
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def throttle_key(email: str, client: str) -> str:
    return web_digest("sign-in", normalized_email(email), client)


def blocked(db: Session, key: str) -> bool:
    """Whether this account and client have failed too often lately."""
    since = utcnow() - FAILURE_WINDOW
    count = db.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.key_sha256 == key, LoginFailure.at >= since)
    )
    return bool(count and count >= MAX_FAILURES)


def sign_in(
    db: Session, email: str, password: str, client: str, hours: float
) -> tuple[User, str] | None:
    """The user and a new session token, or None (counted as a failure)."""
    key = throttle_key(email, client)
    user = verify_password(db, email, password)
    if user is None:
        db.add(LoginFailure(key_sha256=key))
        db.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - FAILURE_WINDOW))
        return None
    db.execute(delete(LoginFailure).where(LoginFailure.key_sha256 == key))
    token = secrets.token_urlsafe(32)
    db.add(
        WebSession(
            token_sha256=_token_digest(token),
            user_id=user.id,
            expires_at=utcnow() + dt.timedelta(hours=hours),
        )
    )
    audit.record(db, user.clinic_id, f"user:{user.id}", "user.sign_in", user.id)
    return user, token


def session_user(db: Session, token: str | None) -> User | None:
    """The active user a session token stands for, or None."""
    if not token or len(token) > 100:
        return None
    found = db.get(WebSession, _token_digest(token))
    if found is None or found.expires_at <= utcnow():
        return None
    user = db.get(User, found.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return user


def sign_out(db: Session, token: str | None) -> None:
    if not token:
        return
    found = db.get(WebSession, _token_digest(token))
    if found is not None:
        user = db.get(User, found.user_id)
        db.delete(found)
        if user is not None:
            audit.record(db, user.clinic_id, f"user:{user.id}", "user.sign_out", user.id)
    db.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
