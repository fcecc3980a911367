"""``/v1/documents``: one document, synchronously (the PDF) or asynchronously (202)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ...errors import RequestError
from ...limits import MAX_REQUEST_BYTES
from ...request import DocumentRequest
from ..models import Document, DocumentStatus
from ..problems import problem_response, responses
from ..rendering import Renders, mark_failed
from ..services import clinics, documents
from ..services.access import Caller
from .deps import CallerDep, idempotent, in_session, one_of_theirs, read_body, renders
from .schemas import ID_PATTERN, DocumentOut

router = APIRouter(prefix="/v1/documents", tags=["documents"])

JSON_TYPES = ("application/json",)
PDF_RESPONSE = {"description": "The PDF", "content": {"application/pdf": {}}}
ACCEPTED = {
    "description": "Accepted: rendering; poll Location",
    "model": DocumentOut,
    "headers": {"Location": {"description": "The document", "schema": {"type": "string"}}},
    "links": {
        name: {"operationId": operation, "parameters": {"document_id": "$response.body#/id"}}
        for name, operation in (("metadata", "getDocument"), ("pdf", "getDocumentPdf"))
    },
}
DocumentId = Annotated[str, Path(pattern=ID_PATTERN, description="A document id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Repeat a POST safely: the same key and body get the first response",
        max_length=255,
    ),
]


def document_out(document: Document) -> DocumentOut:
    return DocumentOut.model_validate(document)


def _store(db: Session, caller: Caller, body: Any) -> Document:
    clinic = clinics.get_clinic(db, caller.clinic_id)
    request: DocumentRequest = documents.build_request(clinic, body)
    return documents.create_document(db, caller, request)


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = (
            f" ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise RequestError([("request", f"is not valid JSON{where}")]) from None


def _accepted(document: Document) -> JSONResponse:
    location = f"/v1/documents/{document.id}"
    return JSONResponse(
        document_out(document).model_dump(mode="json"),
        status_code=202,
        headers={"Location": location},
    )


def _pdf_response(document: Document, pdf: bytes) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Location": f"/v1/documents/{document.id}/pdf",
            "Content-Disposition": f'inline; filename="{document.kind}-{document.locale}.pdf"',
        },
    )


def _outcome(db: Session, caller: Caller, document_id: str) -> tuple[Document, bytes | None]:
    document = documents.get_document(db, caller, document_id)
    return document, documents.finished_pdf(document)


@router.post(
    "",
    operation_id="createDocument",
    summary="Render a document",
    description=(
        "A request as `dn-docs render` takes it; `clinic`, `practitioner` and `locale`"
        " default from the clinic's profile. Answers with the PDF, or with"
        " `Prefer: respond-async` (or when rendering takes longer than the server's"
        " sync timeout) with 202 and the document's Location."
    ),
    response_class=Response,
    responses={
        200: PDF_RESPONSE,
        202: ACCEPTED,
        500: {"description": "The render failed", "content": {"application/problem+json": {}}},
        **responses(401, 409, 413, 415, 422, 429, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Request"}}},
        }
    },
)
async def create_document(
    request: Request,
    caller: CallerDep,
    pool: Annotated[Renders, Depends(renders)],
    idempotency_key: IdempotencyKey = None,
    prefer: Annotated[str | None, Header(description="respond-async: answer 202 at once")] = None,
) -> Response:
    body = await read_body(request, MAX_REQUEST_BYTES, JSON_TYPES)
    respond_async = "respond-async" in (prefer or "").lower()

    async def produce() -> Response:
        data = _parse_json(body)
        pool.admit()
        stored: Document | None = None
        try:
            stored = await in_session(_store, caller, data)
            finished = await pool.render(stored.id)
        except BaseException:
            pool.release()
            if stored is not None:
                with contextlib.suppress(Exception):
                    await run_in_threadpool(mark_failed, stored.id, "could not be queued")
            raise
        document = stored
        if respond_async:
            return _accepted(document)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(finished), pool.config.sync_timeout)
        document, pdf = await in_session(_outcome, caller, document.id)
        if pdf is not None:
            return _pdf_response(document, pdf)
        if document.status == DocumentStatus.FAILED:
            return problem_response(500, "Render failed", document.error or "the render failed")
        return _accepted(document)

    return await idempotent(request, caller, body, produce)


@one_of_theirs(router, "GET", "/{document_id}", "getDocument", "A document's metadata", DocumentOut)
async def get_document(document_id: DocumentId, caller: CallerDep) -> DocumentOut:
    document = await in_session(documents.get_document, caller, document_id)
    return document_out(document)


@router.get(
    "/{document_id}/pdf",
    operation_id="getDocumentPdf",
    summary="A document's PDF",
    response_class=Response,
    responses={200: PDF_RESPONSE, **responses(401, 404, 409, 422, 503)},
)
async def get_document_pdf(document_id: DocumentId, caller: CallerDep) -> Response:
    document = await in_session(documents.get_document, caller, document_id)
    pdf = await in_session(documents.document_pdf, caller, document_id)
    return _pdf_response(document, pdf)
