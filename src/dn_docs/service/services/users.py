"""People of a clinic who sign in to the web app: made, checked, listed, given a language.

Passwords are hashed with argon2id (argon2-cffi's defaults); an unknown email costs the
same time as a wrong password, so sign-in does not tell which accounts exist.
"""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import ConflictError, RequestError
from ..models import Role, User
from . import audit, clinics
from .access import MANAGERS, Caller

MIN_PASSWORD = 10
MAX_PASSWORD = 1000
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,200}\.[^@\s]{1,60}")
#: Interface languages of the web app.
UI_LOCALES = ("en", "es")


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not a password of anyone")


def normalized_email(email: str) -> str:
    return email.strip().lower()


def check_password(password: str) -> list[tuple[str, str]]:
    if len(password) < MIN_PASSWORD:
        return [("password", f"must be at least {MIN_PASSWORD} characters")]
    if len(password) > MAX_PASSWORD:
        return [("password", f"must be at most {MAX_PASSWORD} characters")]
    return []


def create_user(
    db: Session,
    clinic_id: str,
    email: str,
    name: str,
    role: Role,
    password: str,
    actor: str = "cli",
) -> User:
    """A new user of the clinic; RequestError naming each bad field, 409 for a used email."""
    clinics.get_clinic(db, clinic_id)
    address = normalized_email(email)
    problems: list[tuple[str, str]] = []
    if not EMAIL.fullmatch(address):
        problems.append(("email", "is not an email address"))
    if not name.strip() or len(name.strip()) > 200:
        problems.append(("name", "must be 1 to 200 characters"))
    problems += check_password(password)
    if problems:
        raise RequestError(problems)
    if db.scalar(select(func.count()).select_from(User).where(User.email == address)):
        raise ConflictError("a user with this email already exists")
    user = User(
        clinic_id=clinic_id,
        email=address,
        name=name.strip(),
        role=role,
        password_hash=_hasher().hash(password),
    )
    db.add(user)
    db.flush()
    audit.record(db, clinic_id, actor, "user.create", user.id)
    return user


def add_user(db: Session, caller: Caller, email: str, name: str, role: Role, password: str) -> User:
    """An admin adds a user to their own clinic."""
    caller.require(*MANAGERS)
    return create_user(db, caller.clinic_id, email, name, role, password, caller.actor)


def clinic_users(db: Session, clinic_id: str) -> list[User]:
    query = select(User).where(User.clinic_id == clinic_id).order_by(User.created_at)
    return list(db.scalars(query))


def list_users(db: Session, caller: Caller) -> list[User]:
    caller.require(*MANAGERS)
    return clinic_users(db, caller.clinic_id)


def verify_password(db: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (the same time either way)."""
    user = db.scalar(select(User).where(User.email == normalized_email(email)))
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    try:
        _hasher().verify(stored, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.password_hash is None or user.disabled_at is not None:
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    return user


def caller_of(user: User) -> Caller:
    """What the service layer sees of a signed-in user (the audit log names their id)."""
    return Caller(clinic_id=user.clinic_id, actor=f"user:{user.id}", role=Role(user.role))


def set_locale(db: Session, user_id: str, locale: str | None) -> None:
    if locale is not None and locale not in UI_LOCALES:
        raise RequestError([("locale", f"must be one of: {', '.join(UI_LOCALES)}")])
    user = db.get(User, user_id)
    if user is not None:
        user.locale = locale
