"""The front desk's pages: upload a schedule, check its rows, start it, watch it, download."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from ..errors import RequestError, ServiceError
from ..limits import MAX_INPUT_BYTES
from ..service.api.deps import in_session, renders
from ..service.api.schemas import ID_PATTERN, BatchFileName
from ..service.models import Batch, BatchStatus, User, utcnow
from ..service.rendering import Renders
from ..service.services import batches
from ..service.services.access import Caller
from .guard import SignedIn, checked_form, signed_in
from .pages import page
from .signin import see_other

router = APIRouter(include_in_schema=False)

BatchId = Annotated[str, Path(pattern=ID_PATTERN)]
SignedInUser = Annotated[SignedIn, Depends(signed_in)]
#: The order a finished batch's files are offered in.
FILE_ORDER = (
    "packets.pdf",
    "merged-consent.pdf",
    "merged-aftercare.pdf",
    "errors.csv",
    "manifest.json",
)


def _who(db: Session, actors: set[str]) -> dict[str, str]:
    """Staff names for ``user:<id>`` actors (keys stay as they are)."""
    ids = [a.removeprefix("user:") for a in actors if a.startswith("user:")]
    found = db.execute(select(User.id, User.name).where(User.id.in_(ids))).all() if ids else []
    return {f"user:{user_id}": name for user_id, name in found}


def _state(db: Session, batch: Batch) -> dict[str, Any]:
    progress = batches.progress(db, batch)
    counts = progress.counts
    left = counts.get("queued", 0) + counts.get("rendering", 0)
    seconds_left = None
    if progress.finished and left:
        elapsed = (utcnow() - batch.created_at).total_seconds()
        seconds_left = math.ceil(elapsed / progress.finished * left)
    files = {f.name: f.bytes for f in batches.available_files(db, batch)}
    return {
        "id": batch.id,
        "status": batch.status,
        "total": progress.total,
        "done": counts.get("done", 0),
        "failed": counts.get("failed", 0) + counts.get("cancelled", 0),
        "left": left,
        "seconds_left": seconds_left,
        "finished": batch.finished_at is not None,
        "files": [{"name": n, "bytes": files[n]} for n in FILE_ORDER if n in files],
        "invalid_rows": batch.invalid_rows,
    }


def _recent(db: Session, caller: Caller) -> list[dict[str, Any]]:
    found = batches.recent_batches(db, caller)
    names = _who(db, {b.created_by for b in found})
    return [
        {
            **_state(db, batch),
            "created_at": batch.created_at,
            "created_by": names.get(batch.created_by, batch.created_by),
            "input_format": batch.input_format,
        }
        for batch in found
    ]


@router.get("/batches")
async def batches_page(request: Request, user: SignedInUser) -> Response:
    recent = await in_session(_recent, user.caller)
    return page(request, "batches.html", user, recent=recent, problem=None)


def _stage(db: Session, caller: Caller, data: bytes, kind: str, name: str | None) -> str:
    return batches.create_batch(db, caller, data, kind, name, None, staged=True).id


@router.post("/batches")
async def upload(request: Request, user: SignedInUser) -> Response:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_INPUT_BYTES + 2**20:
        raise RequestError([("file", f"may be at most {MAX_INPUT_BYTES // 2**20} MiB")])
    form = await checked_form(request, user, max_files=1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        recent = await in_session(_recent, user.caller)
        return page(request, "batches.html", user, status=422, recent=recent, problem="file")
    data = await upload.read()
    kind = upload.content_type or "application/octet-stream"
    try:
        batch_id = await in_session(_stage, user.caller, data, kind, upload.filename)
    except (RequestError, ServiceError) as exc:
        if isinstance(exc, ServiceError) and exc.status not in (413, 415):
            raise
        recent = await in_session(_recent, user.caller)
        return page(request, "batches.html", user, status=422, recent=recent, problem="type")
    return see_other(f"/batches/{batch_id}")


def _preview_rows(db: Session, caller: Caller, batch_id: str) -> dict[str, Any]:
    """Every row of a staged upload: its patient, documents and problems, in file order."""
    plan = batches.preview_staged(db, caller, batch_id)
    rows: dict[int, dict[str, Any]] = {}

    def row_of(number: int) -> dict[str, Any]:
        return rows.setdefault(
            number, {"row": number, "name": "", "kinds": [], "locale": "", "problems": []}
        )

    for number in plan.rows:
        row_of(number)
    for job in plan.jobs:
        row = row_of(job.row)
        row["name"] = job.request.get("patient", {}).get("name", "")
        row["locale"] = job.locale
        row["kinds"].append(job.kind)
    whole_file = []
    for error in plan.errors:
        if error.row == 0:
            whole_file.append(error)
            continue
        row_of(error.row)["problems"].append(error)
    ordered = [rows[n] for n in sorted(rows)]
    return {
        "rows": ordered,
        "whole_file": whole_file,
        "documents": len(plan.jobs),
        "bad_rows": sum(1 for r in ordered if r["problems"]),
    }


def _batch(db: Session, caller: Caller, batch_id: str) -> dict[str, Any]:
    batch = batches.get_batch(db, caller, batch_id)
    found = {
        **_state(db, batch),
        "created_at": batch.created_at,
        "row_errors": list(batch.row_errors),
        "error": batch.error,
    }
    found["created_by"] = _who(db, {batch.created_by}).get(batch.created_by, batch.created_by)
    return found


@router.get("/batches/{batch_id}")
async def batch_page(request: Request, batch_id: BatchId, user: SignedInUser) -> Response:
    batch = await in_session(_batch, user.caller, batch_id)
    preview = None
    if batch["status"] == BatchStatus.STAGED:
        preview = await in_session(_preview_rows, user.caller, batch_id)
    return page(request, "batch.html", user, batch=batch, preview=preview)


@router.post("/batches/{batch_id}/start")
async def start(
    request: Request,
    batch_id: BatchId,
    user: SignedInUser,
    pool: Annotated[Renders, Depends(renders)],
) -> Response:
    await checked_form(request, user)
    await in_session(batches.start_staged, user.caller, batch_id)
    await pool.start_batch(batch_id)
    return see_other(f"/batches/{batch_id}")


@router.post("/batches/{batch_id}/cancel")
async def cancel(
    request: Request,
    batch_id: BatchId,
    user: SignedInUser,
    pool: Annotated[Renders, Depends(renders)],
) -> Response:
    await checked_form(request, user)
    _, finish = await in_session(batches.cancel_batch, user.caller, batch_id)
    if finish:
        await pool.finish_batch(batch_id)
    return see_other(f"/batches/{batch_id}")


def _progress(db: Session, caller: Caller, batch_id: str) -> dict[str, Any]:
    return _state(db, batches.get_batch(db, caller, batch_id))


@router.get("/batches/{batch_id}/progress.json")
async def progress(batch_id: BatchId, user: SignedInUser) -> Response:
    state = await in_session(_progress, user.caller, batch_id)
    return JSONResponse(state, headers={"Cache-Control": "no-store"})


@router.get("/batches/{batch_id}/files/{name}")
async def batch_file(batch_id: BatchId, name: BatchFileName, user: SignedInUser) -> Response:
    content, media_type = await in_session(batches.batch_file, user.caller, batch_id, name)
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
