"""What the routers share: the caller, the database in a worker thread, bodies read
within their limits, and Idempotency-Key handling."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Concatenate, ParamSpec, TypeVar

from fastapi import APIRouter, Depends, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ...errors import PayloadTooLargeError, UnsupportedMediaTypeError
from .. import db
from ..problems import responses
from ..rendering import Renders
from ..services import idempotency, keys
from ..services.access import Caller

P = ParamSpec("P")
T = TypeVar("T")
Route = TypeVar("Route", bound=Callable[..., Any])

bearer = HTTPBearer(
    auto_error=False,
    description="An API key of the clinic (`dn-docs keys create --clinic ID`), as a bearer token",
)


def current_caller(
    credentials: HTTPAuthorizationCredentials | None = Security(bearer),  # noqa: B008
) -> Caller:
    with db.session() as session:
        return keys.authenticate(session, credentials.credentials if credentials else None)


#: The calling clinic, from its API key (401 without a valid one).
CallerDep = Annotated[Caller, Depends(current_caller)]


def one_of_theirs(
    router: APIRouter, method: str, path: str, operation_id: str, summary: str, model: Any
) -> Callable[[Route], Route]:
    """A route about one document or batch of the caller's clinic, by its id: another
    clinic's id is 404, as an unknown one is."""
    decorate: Callable[[Route], Route] = router.api_route(
        path,
        methods=[method],
        operation_id=operation_id,
        summary=summary,
        response_model=model,
        responses=responses(401, 404, 422, 503),
    )
    return decorate


def renders(request: Request) -> Renders:
    found: Renders = request.app.state.renders
    return found


async def in_session(
    fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """``fn(session, ...)`` in a worker thread, in one transaction."""

    def call() -> T:
        with db.session() as session:
            return fn(session, *args, **kwargs)

    return await run_in_threadpool(call)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request, limit: int, accepted: tuple[str, ...]) -> bytes:
    """The body, if its media type is one of ``accepted``: 415 otherwise, 413 past ``limit``."""
    if accepted and media_type(request) not in accepted:
        raise UnsupportedMediaTypeError(f"send the body as {' or '.join(accepted)}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"the body may be at most {limit // 1024} KiB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"the body may be at most {limit // 1024} KiB")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # later readers (form parsing) see what was read here
    return body


def limit_body(limit: int) -> Callable[[Request], None]:
    """A dependency that refuses a declared body over ``limit`` bytes before it is read."""

    def check(request: Request) -> None:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLargeError(f"the body may be at most {limit // 1024} KiB")

    return check


#: Response headers a replay repeats.
_REPLAYED_HEADERS = ("content-type", "location", "content-location", "content-disposition")


async def idempotent(
    request: Request, caller: Caller, body: bytes, produce: Callable[[], Awaitable[Response]]
) -> Response:
    """``produce()``'s response, or the first response to the same Idempotency-Key."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return await produce()
    fingerprint = idempotency.fingerprint(request.method, request.url.path, body)
    replay = await in_session(idempotency.begin, caller.clinic_id, key, fingerprint)
    if replay is not None:
        return Response(
            replay.body,
            status_code=replay.status_code,
            headers={**replay.headers, "Idempotent-Replayed": "true"},
        )
    try:
        response = await produce()
    except BaseException:
        with contextlib.suppress(Exception):
            await in_session(idempotency.abandon, caller.clinic_id, key)
        raise
    kept = {name: value for name in _REPLAYED_HEADERS if (value := response.headers.get(name))}
    await in_session(
        idempotency.complete,
        caller.clinic_id,
        key,
        response.status_code,
        kept,
        bytes(response.body),
    )
    return response
