"""The practitioner's pages: the new-document form, its preview and the PDF."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..content.labels import AREA_LABELS, CONDITION_LABELS
from ..errors import RequestError
from ..service.api.deps import in_session, renders
from ..service.api.schemas import ID_PATTERN
from ..service.models import Document
from ..service.rendering import Renders, mark_failed
from ..service.services import clinics, documents
from ..service.services.access import Caller
from . import forms
from .guard import SignedIn, checked_form, signed_in
from .i18n import language_choices
from .pages import page, texts_for
from .signin import see_other

router = APIRouter(include_in_schema=False)

DocumentId = Annotated[str, Path(pattern=ID_PATTERN)]
User = Annotated[SignedIn, Depends(signed_in)]


def _form_context(db: Session, user: SignedIn) -> dict[str, Any]:
    clinic = clinics.get_clinic(db, user.clinic_id)
    practitioners = list(clinic.practitioners)
    mine = next((n for n, p in enumerate(practitioners) if p.get("name") == user.name), 0)
    return {
        "clinic_name": clinic.name,
        "clinic_locale": clinic.default_locale or clinic.language,
        "date_format": forms.local_date_format(clinic.country).pattern,
        "practitioners": practitioners,
        "my_practitioner": mine,
    }


def _form_page(
    request: Request,
    user: SignedIn,
    context: dict[str, Any],
    values: dict[str, Any],
    problems: list[tuple[str, str]],
    status: int = 200,
) -> Response:
    errors = forms.by_field(problems)
    summary = [(n, r) for n, rs in errors.items() if n not in forms.FORM_FIELDS for r in rs]
    return page(
        request,
        "document_form.html",
        user,
        status=status,
        values=values,
        errors=errors,
        summary=summary,
        languages=language_choices(texts_for(request, user).locale),
        areas=forms.AREAS,
        front=forms.FRONT,
        back=forms.BACK,
        area_labels=AREA_LABELS,
        conditions=forms.CONDITIONS,
        condition_labels=CONDITION_LABELS,
        questions=forms.questions(),
        options=forms.OPTIONS,
        **context,
    )


@router.get("/documents/new")
async def new_document(request: Request, user: User) -> Response:
    context = await in_session(_form_context, user)
    values = {
        "kind": "",
        "locale": context["clinic_locale"],
        "practitioner": str(context["my_practitioner"]),
    }
    return _form_page(request, user, context, values, [])


def _store(db: Session, caller: Caller, submission: forms.Submission) -> list[str]:
    """One stored document per kind, or RequestError with every kind's field reasons."""
    clinic = clinics.get_clinic(db, caller.clinic_id)
    problems = list(submission.problems)
    requests = []
    for kind in submission.kinds:
        body = {**submission.body, "kind": kind}
        if kind == "aftercare":
            body.pop("screening", None)
        try:
            requests.append(documents.build_request(clinic, body))
        except RequestError as exc:
            problems += [p for p in exc.errors if p not in problems]
    if problems:
        raise RequestError(problems)
    return [documents.create_document(db, caller, request).id for request in requests]


def _practitioners(db: Session, clinic_id: str) -> tuple[list[dict[str, Any]], str]:
    clinic = clinics.get_clinic(db, clinic_id)
    return list(clinic.practitioners), clinic.country


@router.post("/documents")
async def create_documents(
    request: Request, user: User, pool: Annotated[Renders, Depends(renders)]
) -> Response:
    form = await checked_form(request, user)
    practitioners, country = await in_session(_practitioners, user.clinic_id)
    submission = forms.submission(form, practitioners, country)
    ids: list[str] = []
    admitted = 0
    try:
        try:
            for _ in submission.kinds:
                pool.admit()  # 429 while too many renders wait, as the API answers
                admitted += 1
            ids = await in_session(_store, user.caller, submission)
        except BaseException:
            for _ in range(admitted):
                pool.release()
            raise
    except RequestError as exc:
        context = await in_session(_form_context, user)
        values: dict[str, Any] = {k: v for k, v in form.multi_items() if k != "csrf_token"}
        values["areas"] = form.getlist("session.areas")
        return _form_page(request, user, context, values, exc.errors, status=422)
    waiting = []
    for document_id in ids:
        try:
            waiting.append(await pool.render(document_id))
        except BaseException:
            pool.release()
            with contextlib.suppress(Exception):
                await run_in_threadpool(mark_failed, document_id, "could not be queued")
            raise
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(asyncio.gather(*waiting)), pool.config.sync_timeout)
    also = f"?also={ids[1]}" if len(ids) > 1 else ""
    return see_other(f"/documents/{ids[0]}{also}")


def _document(db: Session, caller: Caller, document_id: str) -> dict[str, Any]:
    document = documents.get_document(db, caller, document_id)
    return _summary(document)


def _summary(document: Document) -> dict[str, Any]:
    request = documents.stored_request(document) or {}
    patient = request.get("patient", {})
    return {
        "id": document.id,
        "kind": document.kind,
        "locale": document.locale,
        "status": document.status,
        "error": document.error,
        "created_at": document.created_at,
        "pages": document.pages,
        "patient_name": patient.get("name", ""),
        "patient_id": patient.get("id", ""),
        "areas": request.get("session", {}).get("areas", []),
    }


@router.get("/documents/{document_id}")
async def show_document(
    request: Request, document_id: DocumentId, user: User, also: str | None = None
) -> Response:
    shown = await in_session(_document, user.caller, document_id)
    others = []
    if also is not None and len(also) == 32 and also.isalnum():
        with contextlib.suppress(Exception):
            others.append(await in_session(_document, user.caller, also))
    return page(
        request,
        "document.html",
        user,
        documents=[shown, *others],
        area_labels={str(k): v for k, v in AREA_LABELS.items()},
        language_name=dict(language_choices(texts_for(request, user).locale)),
    )


@router.get("/documents/{document_id}/pdf")
async def document_pdf(document_id: DocumentId, user: User, download: bool = False) -> Response:
    document = await in_session(documents.get_document, user.caller, document_id)
    pdf = await in_session(documents.document_pdf, user.caller, document_id)
    disposition = "attachment" if download else "inline"
    name = f"{document.kind}-{document.locale}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )
