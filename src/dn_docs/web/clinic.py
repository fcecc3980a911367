"""The clinic's settings (admins): profile, practitioners, logo, users and API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from ..errors import NotFoundError, RequestError, ServiceError
from ..limits import MAX_LOGO_BYTES
from ..service.api.deps import in_session
from ..service.models import Role
from ..service.services import clinics, keys, users
from ..service.services.access import MANAGERS, Caller
from .guard import SignedIn, checked_form, signed_in
from .i18n import language_choices
from .pages import page, texts_for
from .signin import see_other

router = APIRouter(include_in_schema=False)
SignedInUser = Annotated[SignedIn, Depends(signed_in)]
PRACTITIONER_FIELDS = ("name", "credentials", "license", "dry_needling_training")
CLINIC_FIELDS = clinics.CLINIC_FIELDS
ROLES = tuple(Role)


def _settings(db: Session, caller: Caller) -> dict[str, Any]:
    caller.require(*MANAGERS)
    clinic = clinics.get_clinic(db, caller.clinic_id)
    values: dict[str, Any] = {f"clinic.{n}": getattr(clinic, n) or "" for n in CLINIC_FIELDS}
    values["default_locale"] = clinic.default_locale or ""
    values["retention_days"] = str(clinic.retention_days)
    for number, practitioner in enumerate(clinic.practitioners):
        for name in PRACTITIONER_FIELDS:
            values[f"practitioners[{number}].{name}"] = practitioner.get(name) or ""
    return {
        "values": values,
        "practitioner_rows": len(clinic.practitioners) + 1,
        "has_logo": clinic.logo_sha256 is not None,
        "users": [
            {"name": u.name, "email": u.email, "role": u.role, "disabled": u.disabled_at}
            for u in users.list_users(db, caller)
        ],
        "keys": [
            {"id": k.id, "role": k.role, "label": k.label or "", "created_at": k.created_at}
            for k in keys.list_keys(db, caller.clinic_id)
            if k.revoked_at is None
        ],
    }


def _settings_page(
    request: Request,
    user: SignedIn,
    context: dict[str, Any],
    status: int = 200,
    problems: list[tuple[str, str]] | None = None,
    **extra: Any,
) -> Response:
    errors: dict[str, list[str]] = {}
    for name, reason in problems or []:
        errors.setdefault(name, []).append(reason)
    known = set(context["values"]) | {"logo", "email", "name", "password", "role", "label"}
    summary = [(n, r) for n, rs in errors.items() if n not in known for r in rs]
    return page(
        request,
        "settings.html",
        user,
        status=status,
        errors=errors,
        summary=summary,
        languages=language_choices(texts_for(request, user).locale),
        roles=ROLES,
        practitioner_fields=PRACTITIONER_FIELDS,
        notice=extra.pop("notice", None),
        new_key=extra.pop("new_key", None),
        user_values=extra.pop("user_values", {}),
        **context,
    )


@router.get("/settings")
async def settings_page(request: Request, user: SignedInUser, saved: str | None = None) -> Response:
    context = await in_session(_settings, user.caller)
    return _settings_page(request, user, context, notice="saved" if saved else None)


def _profile(form: FormData) -> clinics.Profile:
    def text(name: str) -> str | None:
        value = form.get(name)
        return value.strip() or None if isinstance(value, str) else None

    practitioners = []
    for number in range(100):
        fields = {n: text(f"practitioners[{number}].{n}") for n in PRACTITIONER_FIELDS}
        if f"practitioners[{number}].name" not in form:
            break
        if any(fields.values()):
            practitioners.append({k: v for k, v in fields.items() if v is not None})
    retention = text("retention_days")
    if retention is not None and not retention.isdigit():
        raise RequestError([("retention_days", "must be a whole number of days")])
    return clinics.Profile(
        clinic={n: v for n in CLINIC_FIELDS if (v := text(f"clinic.{n}")) is not None},
        practitioners=practitioners,
        default_locale=text("default_locale"),
        retention_days=int(retention) if retention is not None else None,
    )


def _save_profile(db: Session, caller: Caller, form: FormData) -> None:
    clinics.update_profile(db, caller, _profile(form))


@router.post("/settings")
async def save_settings(request: Request, user: SignedInUser) -> Response:
    form = await checked_form(request, user)
    try:
        await in_session(_save_profile, user.caller, form)
    except RequestError as exc:
        context = await in_session(_settings, user.caller)
        context["values"].update({k: v for k, v in form.multi_items() if isinstance(v, str)})
        return _settings_page(request, user, context, 422, exc.errors)
    return see_other("/settings?saved=profile")


@router.post("/settings/logo")
async def set_logo(request: Request, user: SignedInUser) -> Response:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_LOGO_BYTES + 2**16:
        raise RequestError([("logo", f"may be at most {MAX_LOGO_BYTES // 1024} KiB")])
    form = await checked_form(request, user, max_files=1)
    upload = form.get("logo")
    problems: list[tuple[str, str]] = []
    if not isinstance(upload, UploadFile) or not upload.filename:
        problems = [("logo", "choose a PNG or JPEG file")]
    else:
        data = await upload.read()
        try:
            await in_session(clinics.set_logo, user.caller, upload.content_type or "", data)
        except RequestError as exc:
            problems = exc.errors
        except ServiceError as exc:
            if exc.status not in (413, 415):
                raise
            problems = [("logo", str(exc))]
    if problems:
        context = await in_session(_settings, user.caller)
        return _settings_page(request, user, context, 422, problems)
    return see_other("/settings?saved=logo")


@router.post("/settings/logo/remove")
async def remove_logo(request: Request, user: SignedInUser) -> Response:
    await checked_form(request, user)
    await in_session(clinics.remove_logo, user.caller)
    return see_other("/settings?saved=logo")


def _logo(db: Session, caller: Caller) -> tuple[bytes, str]:
    clinic = clinics.get_clinic(db, caller.clinic_id)
    if clinic.logo is None or clinic.logo_type is None:
        raise NotFoundError("the clinic has no logo")
    return clinic.logo, clinic.logo_type


@router.get("/settings/logo")
async def logo(user: SignedInUser) -> Response:
    data, kind = await in_session(_logo, user.caller)
    return Response(data, media_type=kind, headers={"Cache-Control": "no-store"})


def _add_user(db: Session, caller: Caller, form: FormData) -> None:
    role = str(form.get("role") or "")
    if role not in {r.value for r in ROLES}:
        raise RequestError([("role", "choose a role")])
    users.add_user(
        db,
        caller,
        str(form.get("email") or ""),
        str(form.get("name") or ""),
        Role(role),
        str(form.get("password") or ""),
    )


@router.post("/settings/users")
async def add_user(request: Request, user: SignedInUser) -> Response:
    form = await checked_form(request, user)
    try:
        await in_session(_add_user, user.caller, form)
    except RequestError as exc:
        problems = exc.errors
    except ServiceError as exc:
        if exc.status != 409:
            raise
        problems = [("email", "is already used by another user")]
    else:
        return see_other("/settings?saved=user")
    context = await in_session(_settings, user.caller)
    values = {k: str(v) for k, v in form.multi_items() if k in ("email", "name", "role")}
    return _settings_page(request, user, context, 422, problems, user_values=values)


def _create_key(db: Session, caller: Caller, role: str, label: str) -> tuple[str, str]:
    caller.require(*MANAGERS)
    if role not in {r.value for r in ROLES}:
        raise RequestError([("role", "choose a role")])
    key, secret = keys.create_key(db, caller.clinic_id, Role(role), label or None, caller.actor)
    return key.id, secret


@router.post("/settings/keys")
async def create_key(request: Request, user: SignedInUser) -> Response:
    form = await checked_form(request, user)
    label = str(form.get("label") or "").strip()[:100]
    _, secret = await in_session(_create_key, user.caller, str(form.get("key_role") or ""), label)
    context = await in_session(_settings, user.caller)
    # Shown on this page once: only its hash is stored.
    return _settings_page(request, user, context, new_key=secret)


@router.post("/settings/keys/{key_id}/revoke")
async def revoke_key(
    request: Request,
    user: SignedInUser,
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")],
) -> Response:
    await checked_form(request, user)
    await in_session(keys.revoke_own_key, user.caller, key_id)
    return see_other("/settings?saved=key")
