"""Clinics and their profile: details, practitioners, default language, logo, retention.

A profile is checked by the library itself: it is valid when a request made from it
is, so its errors carry the same field reasons as a request's
(:attr:`dn_docs.errors.RequestError.errors`).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import NotFoundError, PayloadTooLargeError, RequestError, UnsupportedMediaTypeError
from ...examples import example_request
from ...limits import MAX_LOGO_BYTES
from ...request import parse_request
from ..models import Clinic, utcnow
from ..settings import settings
from . import audit
from .access import MANAGERS, Caller

#: Media type of an uploaded logo → file extension.
LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpg"}
#: A logo prints at most a few centimetres wide: larger images only cost memory.
MAX_LOGO_PIXELS = 2000
MIN_LOGO_PIXELS = 16
CLINIC_FIELDS = ("name", "address", "phone", "country", "language")


@dataclass
class Profile:
    """What a clinic's requests default to."""

    clinic: dict[str, Any]
    practitioners: list[dict[str, Any]] = field(default_factory=list)
    default_locale: str | None = None
    retention_days: int | None = None


def _check(profile: Profile, partial: bool = False) -> Profile:
    """``profile`` normalized by the request model, or RequestError naming each field.

    ``partial``: fields left out are not required (a clinic made on the command line
    has no phone number yet).
    """
    base = example_request("en", "consent")
    clinic = {k: v for k, v in profile.clinic.items() if v is not None and k in CLINIC_FIELDS}
    if unknown := sorted(set(profile.clinic) - set(CLINIC_FIELDS)):
        raise RequestError([(f"clinic.{name}", "is not a known field") for name in unknown])
    trial_clinic = {**base["clinic"], **clinic} if partial else clinic
    problems: list[tuple[str, str]] = []
    checked_clinic: dict[str, Any] = {}
    practitioners = []
    locale = None
    for number, practitioner in enumerate(profile.practitioners or [base["practitioner"]]):
        trial = {
            **base,
            "clinic": trial_clinic,
            "practitioner": practitioner,
            "locale": profile.default_locale or base["locale"],
        }
        try:
            request = parse_request(trial)
        except RequestError as exc:
            for name, reason in exc.errors:
                if name.startswith("practitioner"):
                    name = f"practitioners[{number}]" + name.removeprefix("practitioner")
                elif name == "locale":
                    name = "default_locale"
                if (name, reason) not in problems:
                    problems.append((name, reason))
            continue
        checked_clinic = request.clinic.model_dump(mode="json", exclude={"logo"})
        locale = request.locale if profile.default_locale else None
        if profile.practitioners:
            practitioners.append(request.practitioner.model_dump(mode="json"))
    if problems:
        raise RequestError(problems)
    if partial:
        checked_clinic = {k: checked_clinic[k] for k in clinic}
    retention = profile.retention_days
    if retention is not None and not 1 <= retention <= 3650:
        raise RequestError([("retention_days", "must be between 1 and 3650 days")])
    return Profile(checked_clinic, practitioners, locale, retention)


def create_clinic(
    db: Session,
    name: str,
    country: str,
    language: str,
    phone: str | None = None,
    address: str | None = None,
    actor: str = "cli",
) -> Clinic:
    details = {"name": name, "country": country, "language": language}
    details |= {k: v for k, v in (("phone", phone), ("address", address)) if v}
    checked = _check(Profile(details), partial=True)
    clinic = Clinic(**checked.clinic, practitioners=[], retention_days=settings().retention_days)
    db.add(clinic)
    db.flush()
    audit.record(db, clinic.id, actor, "clinic.create", clinic.id)
    return clinic


def get_clinic(db: Session, clinic_id: str) -> Clinic:
    clinic = db.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFoundError(f"no clinic {clinic_id}")
    return clinic


def list_clinics(db: Session) -> list[Clinic]:
    return list(db.scalars(select(Clinic).order_by(Clinic.created_at)))


def profile_of(clinic: Clinic) -> Profile:
    return Profile(
        {name: getattr(clinic, name) for name in CLINIC_FIELDS},
        list(clinic.practitioners),
        clinic.default_locale,
        clinic.retention_days,
    )


def update_profile(db: Session, caller: Caller, profile: Profile) -> Clinic:
    """Replace the clinic's profile (PUT): every field as given."""
    caller.require(*MANAGERS)
    checked = _check(profile)
    clinic = get_clinic(db, caller.clinic_id)
    for name in CLINIC_FIELDS:
        setattr(clinic, name, checked.clinic.get(name))
    clinic.practitioners = checked.practitioners
    clinic.default_locale = checked.default_locale
    if checked.retention_days is not None:
        clinic.retention_days = checked.retention_days
    clinic.updated_at = utcnow()
    audit.record(db, clinic.id, caller.actor, "clinic.update", clinic.id)
    return clinic


def logo_file_name(clinic: Clinic) -> str | None:
    """The logo's name in a render process's logo folder: changes when the logo does."""
    if not clinic.logo_sha256 or not clinic.logo_type:
        return None
    return f"{clinic.id}-{clinic.logo_sha256[:16]}.{LOGO_TYPES[clinic.logo_type]}"


def set_logo(db: Session, caller: Caller, media_type: str, data: bytes) -> Clinic:
    """A PNG or JPEG of at most 512 KiB and 2000 × 2000 pixels."""
    caller.require(*MANAGERS)
    if media_type not in LOGO_TYPES:
        raise UnsupportedMediaTypeError("a logo must be image/png or image/jpeg")
    if len(data) > MAX_LOGO_BYTES:
        raise PayloadTooLargeError(f"a logo may be at most {MAX_LOGO_BYTES // 1024} KiB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            found = Image.MIME.get(image.format or "")
            width, height = image.size
            if width <= MAX_LOGO_PIXELS and height <= MAX_LOGO_PIXELS:
                image.load()
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise RequestError([("logo", "is damaged or not a readable image")]) from None
    if found != media_type:
        raise RequestError([("logo", f"is not a {LOGO_TYPES[media_type].upper()} image")])
    if not (
        MIN_LOGO_PIXELS <= width <= MAX_LOGO_PIXELS and MIN_LOGO_PIXELS <= height <= MAX_LOGO_PIXELS
    ):
        raise RequestError(
            [("logo", f"must be {MIN_LOGO_PIXELS} to {MAX_LOGO_PIXELS} pixels wide and high")]
        )
    clinic = get_clinic(db, caller.clinic_id)
    clinic.logo, clinic.logo_type = data, media_type
    clinic.logo_sha256 = hashlib.sha256(data).hexdigest()
    clinic.updated_at = utcnow()
    audit.record(db, clinic.id, caller.actor, "clinic.logo", clinic.id)
    return clinic


def remove_logo(db: Session, caller: Caller) -> Clinic:
    caller.require(*MANAGERS)
    clinic = get_clinic(db, caller.clinic_id)
    clinic.logo = clinic.logo_type = clinic.logo_sha256 = None
    clinic.updated_at = utcnow()
    audit.record(db, clinic.id, caller.actor, "clinic.logo_remove", clinic.id)
    return clinic


def request_defaults(clinic: Clinic) -> dict[str, Any]:
    """What a request of this clinic starts from before its own fields are laid over."""
    details = {k: v for k in CLINIC_FIELDS if (v := getattr(clinic, k)) is not None}
    defaults: dict[str, Any] = {
        "clinic": details,
        "locale": clinic.default_locale or clinic.language,
    }
    if clinic.practitioners:
        defaults["practitioner"] = clinic.practitioners[0]
    return defaults
