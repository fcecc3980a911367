"""``/v1/batches``: a CSV, XLSX or JSON Lines upload, its progress, its outputs."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from ...errors import RequestError
from ...limits import MAX_INPUT_BYTES
from ..models import Batch, BatchStatus
from ..problems import responses
from ..rendering import Renders
from ..services import batches
from ..services.access import Caller
from .deps import CallerDep, idempotent, in_session, one_of_theirs, read_body, renders
from .documents import IdempotencyKey, document_out
from .schemas import ID_PATTERN, BatchFileName, BatchFileOut, BatchOut, DocumentOut, RowProblem

router = APIRouter(prefix="/v1/batches", tags=["batches"])

BatchId = Annotated[str, Path(pattern=ID_PATTERN, description="A batch id")]
#: Room for the multipart framing and the defaults around the largest file.
FORM_OVERHEAD = 2**20
UPLOAD_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "CSV, XLSX or JSON Lines (by its media type or file extension)",
        },
        "defaults": {
            "type": "string",
            "description": "A JSON object of defaults for every row (clinic, practitioner,"
            " locale, options), laid over the clinic's profile",
        },
    },
}


def batch_out(db: Session, batch: Batch) -> BatchOut:
    progress = batches.progress(db, batch)
    return BatchOut(
        id=batch.id,
        status=batch.status,  # type: ignore[arg-type]
        input_format=batch.input_format,  # type: ignore[arg-type]
        created_at=batch.created_at,
        finished_at=batch.finished_at,
        error=batch.error,
        documents=progress.total,
        counts=progress.counts,
        progress=progress.finished / progress.total
        if progress.total
        else float(batch.finished_at is not None),
        invalid_rows=batch.invalid_rows,
        row_errors=[RowProblem(**e) for e in batch.row_errors],
        files=[
            BatchFileOut(
                name=f.name,  # type: ignore[arg-type]
                media_type=f.media_type,
                bytes=f.bytes,
                url=f"/v1/batches/{batch.id}/files/{f.name}",
            )
            for f in batches.available_files(db, batch)
        ],
    )


def _create(db: Session, caller: Caller, *upload: Any) -> BatchOut:
    return batch_out(db, batches.create_batch(db, caller, *upload))


def _status(db: Session, caller: Caller, batch_id: str) -> BatchOut:
    return batch_out(db, batches.get_batch(db, caller, batch_id))


def _mark_unqueued(db: Session, caller: Caller, batch_id: str) -> None:
    batch = batches.get_batch(db, caller, batch_id)
    batch.status, batch.error = BatchStatus.FAILED, "could not be queued"


def _defaults(text: str | None) -> dict[str, Any] | None:
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise RequestError([("defaults", "is not valid JSON")]) from None
    if not isinstance(value, dict):
        raise RequestError([("defaults", "must be a JSON object")])
    return value


@router.post(
    "",
    operation_id="createBatch",
    summary="Start a batch",
    status_code=202,
    response_model=BatchOut,
    responses={
        202: {
            "description": "Accepted; poll Location",
            "headers": {"Location": {"description": "The batch", "schema": {"type": "string"}}},
            "links": {
                operation: {
                    "operationId": operation,
                    "parameters": {"batch_id": "$response.body#/id"},
                }
                for operation in ("getBatch", "getBatchDocuments", "getBatchFile", "cancelBatch")
            },
        },
        **responses(401, 409, 413, 415, 422, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": UPLOAD_SCHEMA}},
        }
    },
)
async def create_batch(
    request: Request,
    caller: CallerDep,
    pool: Annotated[Renders, Depends(renders)],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    await read_body(request, MAX_INPUT_BYTES + FORM_OVERHEAD, ("multipart/form-data",))
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception:  # the multipart parser's errors are the caller's framing
        raise RequestError([("request", "is not a valid multipart/form-data body")]) from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise RequestError([("file", "is required: the CSV, XLSX or JSON Lines file")])
    defaults_field = form.get("defaults")
    defaults = _defaults(defaults_field if isinstance(defaults_field, str) else None)
    data = await upload.read()
    kind = upload.content_type or "application/octet-stream"
    # What the request means, for Idempotency-Key: a client's next multipart boundary
    # differs, its file and defaults do not.
    meaning = json.dumps([kind, upload.filename, defaults], sort_keys=True).encode() + data

    async def produce() -> Response:
        out = await in_session(_create, caller, data, kind, upload.filename, defaults)
        try:
            await pool.start_batch(out.id)
        except BaseException:
            with contextlib.suppress(Exception):
                await in_session(_mark_unqueued, caller, out.id)
            raise
        return JSONResponse(
            out.model_dump(mode="json"),
            status_code=202,
            headers={"Location": f"/v1/batches/{out.id}"},
        )

    return await idempotent(request, caller, meaning, produce)


@one_of_theirs(
    router,
    "GET",
    "/{batch_id}",
    "getBatch",
    "A batch's status, counts, progress and files",
    BatchOut,
)
async def get_batch(batch_id: BatchId, caller: CallerDep) -> BatchOut:
    return await in_session(_status, caller, batch_id)


@one_of_theirs(
    router,
    "GET",
    "/{batch_id}/documents",
    "getBatchDocuments",
    "A batch's documents, in row order",
    list[DocumentOut],
)
async def get_batch_documents(batch_id: BatchId, caller: CallerDep) -> list[DocumentOut]:
    found = await in_session(batches.batch_documents, caller, batch_id)
    return [document_out(d) for d in found]


@router.get(
    "/{batch_id}/files/{name}",
    operation_id="getBatchFile",
    summary="A finished batch's output file",
    response_class=Response,
    responses={
        200: {
            "description": "The file",
            "content": {"application/pdf": {}, "application/json": {}, "text/csv": {}},
        },
        **responses(401, 404, 422, 503),
    },
)
async def get_batch_file(batch_id: BatchId, name: BatchFileName, caller: CallerDep) -> Response:
    content, media_type = await in_session(batches.batch_file, caller, batch_id, name)
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@one_of_theirs(
    router, "DELETE", "/{batch_id}", "cancelBatch", "Cancel what has not started", BatchOut
)
async def cancel_batch(
    batch_id: BatchId,
    caller: CallerDep,
    pool: Annotated[Renders, Depends(renders)],
) -> BatchOut:
    _, finish = await in_session(batches.cancel_batch, caller, batch_id)
    if finish:
        await pool.finish_batch(batch_id)
    return await in_session(_status, caller, batch_id)
