"""Errors as RFC 9457 ``application/problem+json``.

A bad request lists each field path and reason: the library's own messages
(:attr:`dn_docs.errors.RequestError.errors`) for requests and profiles, pydantic's for
the API's own parameters. No message carries patient data, and no traceback reaches a
client or the log.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kombu.exceptions import OperationalError as KombuOperationalError
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import BusyError, RequestError, ServiceError

log = logging.getLogger("dn_docs.service")

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:dn-docs:problem:"
#: Seconds a client should wait before retrying when the database or broker is down.
UNAVAILABLE_RETRY_AFTER = 5
#: What a database or a broker that is down raises.
OUTAGES: tuple[type[Exception], ...] = (
    DisconnectionError,
    PoolTimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
    KombuOperationalError,
    ConnectionError,
)


class FieldProblem(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """An RFC 9457 problem; ``errors`` lists the fields of a bad request."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of the problems a route may answer with."""
    schema = {"$ref": "#/components/schemas/Problem"}
    described = {
        401: "No, an unknown or a revoked API key",
        403: "The key's role may not do this",
        404: "No such object in the caller's clinic",
        409: "Conflict (an Idempotency-Key reused, or not ready yet)",
        413: "The body is too large",
        415: "The body's media type is not accepted",
        422: "The request is not valid: each field and reason in errors",
        429: "Too many renders pending; retry after Retry-After seconds",
        503: "The database or the broker cannot be reached",
    }
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {
            "description": described[status],
            "content": {MEDIA_TYPE: {"schema": schema}},
        }
        if status in (429, 503):
            entry["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before retrying",
                    "schema": {"type": "integer"},
                }
            }
        out[status] = entry
    return out


def _slug(title: str) -> str:
    return title.lower().replace(" ", "-")


def problem_response(
    status: int,
    title: str,
    detail: str,
    errors: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=TYPE_BASE + _slug(title),
        title=title,
        status=status,
        detail=detail,
        errors=[FieldProblem(field=f, reason=r) for f, r in errors] if errors is not None else None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def bad_request(errors: list[tuple[str, str]]) -> JSONResponse:
    detail = "; ".join(f"{field}: {reason}" for field, reason in errors[:5])
    return problem_response(422, "Invalid request", detail, errors)


def unavailable(what: str) -> JSONResponse:
    return problem_response(
        503,
        "Service unavailable",
        f"the {what} cannot be reached; try again shortly",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    """``("body", "clinic", "phone")`` → ``clinic.phone``; parameters keep their place."""
    parts = list(loc[1:] if loc[:1] == ("body",) else loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "request"


def _validation_reason(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "is not valid"))
    return message[0].lower() + message[1:] if message else "is not valid"


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames[-4:]))


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem."""

    @app.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, BusyError) else None
        if exc.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return problem_response(exc.status, exc.title, str(exc), headers=headers)

    @app.exception_handler(RequestError)
    async def request_error(_: Request, exc: RequestError) -> JSONResponse:
        return bad_request(exc.errors)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [(_field_path(tuple(e["loc"])), _validation_reason(e)) for e in exc.errors()]
        return bad_request(errors or [("request", "is not valid")])

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body FastAPI could not decode
            return bad_request([("request", "is not valid JSON")])
        titles = {404: "Not found", 405: "Method not allowed"}
        return problem_response(
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            str(exc.detail),
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(DBAPIError)
    async def database_error(_: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated or _is_outage(exc):
            log.warning("database unreachable: %s", type(exc.orig).__name__)
            return unavailable("database")
        raise exc

    for outage in OUTAGES:

        @app.exception_handler(outage)
        async def outage_error(_: Request, exc: Exception) -> JSONResponse:
            log.warning("%s unreachable: %s", _component(exc), type(exc).__name__)
            return unavailable(_component(exc))

    app.add_middleware(CatchAll)


def _is_outage(exc: DBAPIError) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


def _component(exc: BaseException) -> str:
    return "database" if isinstance(exc, DisconnectionError | PoolTimeoutError) else "broker"


class CatchAll:
    """An unexpected error: a 500 problem, and one log line with its type and where it
    was raised, not its message (which might quote a request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log.error("internal error: %s at %s", type(exc).__name__, _where(exc))
            if not started:
                response = problem_response(
                    500, "Internal error", "an unexpected error; it is logged"
                )
                await response(scope, receive, send)
