"""``/health`` (the process answers) and ``/ready`` (database, broker, renderer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .. import db
from ..problems import problem_response, responses
from ..rendering import Renders
from .deps import renders
from .schemas import HealthOut, ReadyOut

router = APIRouter(tags=["health"])


@router.get("/health", summary="The server answers", response_model=HealthOut)
async def health() -> HealthOut:
    # Nothing here waits for the database or a render process.
    return HealthOut(status="ok")


def _database() -> str:
    try:
        db.ping()
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"


@router.get(
    "/ready",
    summary="The database, the broker and the renderer work",
    response_model=ReadyOut,
    responses=responses(503),
)
async def ready(pool: Annotated[Renders, Depends(renders)]) -> JSONResponse:
    checks = {"database": await run_in_threadpool(_database), **await pool.checks()}
    failing = {k: v for k, v in checks.items() if v not in ("ok", "not used")}
    if failing:
        detail = "; ".join(f"{k}: {v}" for k, v in failing.items())
        return problem_response(503, "Service unavailable", detail, headers={"Retry-After": "5"})
    return JSONResponse(ReadyOut(status="ready", checks=checks).model_dump())
