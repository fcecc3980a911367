"""The web app's errors as pages: sign-in needed → the sign-in page; a refused form
(CSRF) → 403; another clinic's or an unknown id → 404; the API keeps its problem+json."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from ..errors import BusyError, RequestError, ServiceError
from .guard import CsrfRefusedError, SignInRequiredError, current_user
from .headers import is_web

Handler = Callable[[Request, Any], Awaitable[Response]]


async def error_page(
    request: Request, status: int, reasons: list[tuple[str, str]] | None = None
) -> Response:
    from .pages import page

    user = await current_user(request)
    return page(request, "error.html", user, status=status, code=status, reasons=reasons or [])


def install_error_pages(app: FastAPI) -> None:
    """Put page handlers in front of the API's problem handlers, for web paths only."""

    def wrap(kind: type[Exception], web: Handler) -> None:
        api: Handler | None = app.exception_handlers.get(kind)  # type: ignore[assignment]

        async def handle(request: Request, exc: Exception) -> Response:
            if is_web(request.url.path) or api is None:
                return await web(request, exc)
            return await api(request, exc)

        app.add_exception_handler(kind, handle)

    async def sign_in_first(request: Request, exc: SignInRequiredError) -> Response:
        return RedirectResponse("/login", status_code=303)

    async def csrf_refused(request: Request, exc: CsrfRefusedError) -> Response:
        return await error_page(request, 403, [("csrf", "refused")])

    async def service_error(request: Request, exc: ServiceError) -> Response:
        response = await error_page(request, exc.status)
        if isinstance(exc, BusyError):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def request_error(request: Request, exc: RequestError) -> Response:
        return await error_page(request, 400, exc.errors)

    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        # A malformed id in a path is an unknown page, as another clinic's id is.
        return await error_page(request, 404)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return await error_page(request, exc.status_code)

    app.add_exception_handler(SignInRequiredError, sign_in_first)  # type: ignore[arg-type]
    app.add_exception_handler(CsrfRefusedError, csrf_refused)  # type: ignore[arg-type]
    wrap(ServiceError, service_error)
    wrap(RequestError, request_error)
    wrap(RequestValidationError, validation_error)
    wrap(HTTPException, http_error)
