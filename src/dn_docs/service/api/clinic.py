"""``/v1/clinic``: the calling clinic's profile, the defaults of every request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response
from sqlalchemy.orm import Session

from ...errors import NotFoundError
from ...limits import MAX_LOGO_BYTES
from ..models import Clinic
from ..problems import responses
from ..services import audit, clinics
from ..services.access import MANAGERS, Caller
from .deps import CallerDep, in_session, limit_body, media_type, read_body
from .schemas import (
    AuditOut,
    ClinicDetails,
    ClinicIn,
    ClinicOut,
    LogoOut,
    PractitionerIn,
    binary_body,
)

router = APIRouter(prefix="/v1", tags=["clinic"])

PROFILE_BYTES = 256 * 1024


def clinic_out(clinic: Clinic) -> ClinicOut:
    profile = clinics.profile_of(clinic)
    logo = None
    if clinic.logo_type and clinic.logo_sha256:
        logo = LogoOut(
            media_type=clinic.logo_type,  # type: ignore[arg-type]
            sha256=clinic.logo_sha256,
            url="/v1/clinic/logo",
        )
    return ClinicOut(
        id=clinic.id,
        clinic=ClinicDetails(**profile.clinic),
        practitioners=[PractitionerIn(**p) for p in profile.practitioners],
        default_locale=profile.default_locale,
        retention_days=clinic.retention_days,
        logo=logo,
    )


def _profile(db: Session, caller: Caller) -> ClinicOut:
    return clinic_out(clinics.get_clinic(db, caller.clinic_id))


def _update(db: Session, caller: Caller, body: ClinicIn) -> ClinicOut:
    profile = clinics.Profile(
        clinic=body.clinic.model_dump(),
        practitioners=[p.model_dump() for p in body.practitioners],
        default_locale=body.default_locale,
        retention_days=body.retention_days,
    )
    return clinic_out(clinics.update_profile(db, caller, profile))


def _set_logo(db: Session, caller: Caller, kind: str, data: bytes) -> ClinicOut:
    return clinic_out(clinics.set_logo(db, caller, kind, data))


def _remove_logo(db: Session, caller: Caller) -> ClinicOut:
    return clinic_out(clinics.remove_logo(db, caller))


def _logo(db: Session, caller: Caller) -> tuple[bytes, str]:
    clinic = clinics.get_clinic(db, caller.clinic_id)
    if clinic.logo is None or clinic.logo_type is None:
        raise NotFoundError("the clinic has no logo")
    return clinic.logo, clinic.logo_type


def _audit(db: Session, caller: Caller) -> list[AuditOut]:
    caller.require(*MANAGERS)
    return [
        AuditOut(at=e.at, actor=e.actor, action=e.action, object_id=e.object_id)
        for e in audit.events(db, caller.clinic_id)
    ]


@router.get(
    "/clinic",
    summary="The clinic's profile",
    response_model=ClinicOut,
    responses=responses(401, 503),
)
async def get_clinic(caller: CallerDep) -> ClinicOut:
    return await in_session(_profile, caller)


@router.put(
    "/clinic",
    summary="Replace the clinic's profile",
    response_model=ClinicOut,
    responses=responses(401, 403, 413, 422, 503),
    dependencies=[Depends(limit_body(PROFILE_BYTES))],
)
async def put_clinic(body: Annotated[ClinicIn, Body()], caller: CallerDep) -> ClinicOut:
    return await in_session(_update, caller, body)


@router.get(
    "/clinic/logo",
    summary="The clinic's logo",
    response_class=Response,
    responses={
        200: {"description": "The logo", "content": {"image/png": {}, "image/jpeg": {}}},
        **responses(401, 404, 503),
    },
)
async def get_logo(caller: CallerDep) -> Response:
    data, kind = await in_session(_logo, caller)
    return Response(data, media_type=kind)


@router.put(
    "/clinic/logo",
    summary="Set the clinic's logo: PNG or JPEG, at most 512 KiB and 2000 × 2000 pixels",
    response_model=ClinicOut,
    responses=responses(401, 403, 413, 415, 422, 503),
    openapi_extra=binary_body(*clinics.LOGO_TYPES),
)
async def put_logo(request: Request, caller: CallerDep) -> ClinicOut:
    data = await read_body(request, MAX_LOGO_BYTES, tuple(clinics.LOGO_TYPES))
    return await in_session(_set_logo, caller, media_type(request), data)


@router.delete(
    "/clinic/logo",
    summary="Remove the clinic's logo",
    response_model=ClinicOut,
    responses=responses(401, 403, 503),
)
async def delete_logo(caller: CallerDep) -> ClinicOut:
    return await in_session(_remove_logo, caller)


@router.get(
    "/audit",
    summary="The clinic's audit log, newest first (ids and actions only)",
    response_model=list[AuditOut],
    responses=responses(401, 403, 503),
)
async def get_audit(caller: CallerDep) -> list[AuditOut]:
    return await in_session(_audit, caller)
