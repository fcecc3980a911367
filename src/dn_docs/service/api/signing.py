"""``/v1/documents/{id}/signing-sessions`` and ``/v1/signing-sessions``: consents signed
on a tablet (the service layer is :mod:`dn_docs.service.services.signing`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from ..models import SigningSession
from ..problems import responses
from ..services import signing
from ..services.access import Caller
from .deps import CallerDep, in_session
from .schemas import ID_PATTERN, SigningSessionIn, SigningSessionOut, SigningStartedOut

router = APIRouter(tags=["signing"])

SessionId = Annotated[str, Path(pattern=ID_PATTERN, description="A signing session id")]
DocumentId = Annotated[str, Path(pattern=ID_PATTERN, description="A document id")]
PDF_RESPONSE = {"description": "The signed, sealed PDF", "content": {"application/pdf": {}}}


def session_out(session: SigningSession) -> SigningSessionOut:
    fields = {
        name: getattr(session, name)
        for name in SigningSessionOut.model_fields
        if name != "pin_attempts_left"
    }
    attempts_left = max(0, signing.PIN_ATTEMPTS - session.pin_failures)
    return SigningSessionOut.model_validate({**fields, "pin_attempts_left": attempts_left})


def _start(db: Session, caller: Caller, document_id: str, body: SigningSessionIn) -> JSONResponse:
    started = signing.start_session(
        db, caller, document_id, body.pin, witness=body.witness, return_to=body.return_to
    )
    out = SigningStartedOut(**session_out(started.session).model_dump(), url=started.url)
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/v1/signing-sessions/{started.session.id}"},
    )


@router.post(
    "/v1/documents/{document_id}/signing-sessions",
    operation_id="startSigningSession",
    summary="Sign a consent on a tablet",
    description=(
        "Starts a signing session for a finished consent and answers with its one-time"
        " link (`url`): open it on the tablet. The patient reads the consent and signs"
        " there (with a guardian, an interpreter and a witness where the document has"
        " their boxes); the practitioner enters `pin` and signs last; the consent is then"
        " sealed with the clinic's key (409 when none is configured)."
    ),
    status_code=201,
    response_model=SigningStartedOut,
    responses={
        201: {
            "description": "Started",
            "headers": {"Location": {"description": "The session", "schema": {"type": "string"}}},
        },
        **responses(401, 403, 404, 409, 422, 503),
    },
)
async def start_signing_session(
    document_id: DocumentId, body: Annotated[SigningSessionIn, Body()], caller: CallerDep
) -> JSONResponse:
    return await in_session(_start, caller, document_id, body)


def _get(db: Session, caller: Caller, session_id: str) -> SigningSessionOut:
    return session_out(signing.get_session(db, caller, session_id))


@router.get(
    "/v1/signing-sessions/{session_id}",
    operation_id="getSigningSession",
    summary="A signing session: its status and who has signed (roles, times, methods)",
    response_model=SigningSessionOut,
    responses=responses(401, 404, 422, 503),
)
async def get_signing_session(session_id: SessionId, caller: CallerDep) -> SigningSessionOut:
    return await in_session(_get, caller, session_id)


def _end(db: Session, caller: Caller, session_id: str) -> SigningSessionOut:
    return session_out(signing.end_session(db, caller, session_id))


@router.delete(
    "/v1/signing-sessions/{session_id}",
    operation_id="endSigningSession",
    summary="End a signing session: unsigned, it ends; the tablet it locks is freed",
    response_model=SigningSessionOut,
    responses=responses(401, 404, 422, 503),
)
async def end_signing_session(session_id: SessionId, caller: CallerDep) -> SigningSessionOut:
    return await in_session(_end, caller, session_id)


@router.get(
    "/v1/signing-sessions/{session_id}/pdf",
    operation_id="getSignedPdf",
    summary="The signed consent, sealed",
    response_class=Response,
    responses={200: PDF_RESPONSE, **responses(401, 404, 409, 422, 503)},
)
async def get_signed_pdf(session_id: SessionId, caller: CallerDep) -> Response:
    pdf = await in_session(signing.signed_pdf, caller, session_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="consent-signed.pdf"'},
    )
