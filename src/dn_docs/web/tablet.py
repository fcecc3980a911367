"""The tablet's pages, under ``/sign``: the patient reads the consent and signs, then
the practitioner enters the PIN and signs (:mod:`dn_docs.service.services.signing`).

A browser that opened a signing link carries the session's cookie. While the session
holds it (until the practitioner leaves with the PIN, or ends the session through the
API), :class:`TabletLock` answers every other path of the service with a redirect to
``/sign``: links, the back button and typed addresses all end on the tablet's page.
The pages load nothing but their own script and stylesheet (``Content-Security-Policy:
default-src 'self'``), and what they say the patient reads in their language (the
``messages`` catalogs); the practitioner's step is in the clinic's language.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import locales, resources
from ..errors import ConflictError, NotFoundError, RequestError
from ..service import db
from ..service.api.deps import in_session, read_body
from ..service.models import SigningSession
from ..service.rendering import Renders
from ..service.services import signing
from ..service.services.signing import SIGN_PATH, Step, TabletView

COOKIE = "dn_docs_tablet"
#: The cookie outlives the session by a day: the tablet stays locked until it is left.
COOKIE_SECONDS = 24 * 3600 + signing.SESSION_MINUTES * 60
CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
#: A form with a drawn signature (a PNG of at most 512 KiB, as a data URL).
MAX_FORM_BYTES = 1024 * 1024
#: Seconds the practitioner's signature waits for the seal before the page says "wait".
SEAL_WAIT = 60
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
_STATIC = re.compile(r"[a-z0-9-]+\.(js|css|svg)")
_MEDIA = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
_DATA_URL = "data:image/png;base64,"
#: The signature statement each role signs under (the document's own sentences).
_STATEMENTS = {
    "patient": "I agree to have dry needling.",
    "minor": "Dry needling was explained to me in a way I understand, and I agree to have it.",
    "guardian": (
        "The patient is under %(age)s. I am the patient's parent or legal guardian and I agree"
        " on their behalf."
    ),
    "practitioner": (
        "I explained dry needling, its benefits and its risks, and answered the patient's"
        " questions."
    ),
}

router = APIRouter(prefix=SIGN_PATH, include_in_schema=False)


def templates_folder() -> Path:
    return resources.templates_dir() / "web" / "tablet"


def static_folder() -> Path:
    return resources.templates_dir() / "web" / "static" / "tablet"


@cache
def environment(locale_id: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_folder())),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # Extraction trims {% trans %} blocks (pyproject.toml); rendering looks up the same ids.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(  # type: ignore[attr-defined]
        locales.load_translations(locale_id), newstyle=True
    )
    return env


def page(template: str, locale_id: str, status: int = 200, **context: Any) -> HTMLResponse:
    locale = locales.get(locale_id)
    html = environment(locale.id).get_template(template).render(locale=locale, **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _browser_locale(request: Request) -> str:
    """The language of a page no session names: the browser's first, else English."""
    first = request.headers.get("accept-language", "").split(",")[0].split(";")[0]
    try:
        return locales.negotiate(first)
    except RequestError:
        return locales.SOURCE_LOCALE


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


def _set_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=COOKIE_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _clear_cookie(response: Response) -> Response:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


def not_found(request: Request, forget: bool = False) -> Response:
    """The page for a link or a tablet that leads to no session; ``forget`` removes a
    cookie that is the key to none (never one that still holds the tablet)."""
    response = page("not_found.html", _browser_locale(request), status=404)
    return _clear_cookie(response) if forget else response


def _same_origin(request: Request) -> bool:
    """A form posted from the tablet's own page (the cookie is SameSite=Strict too).

    Browsers say where a request comes from in ``Sec-Fetch-Site``; the pages send no
    referrer, so a browser's ``Origin`` on a form post is ``null``.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


# Reading the session ---------------------------------------------------------------------


def _device(db: Session, cookie: str | None) -> tuple[SigningSession, TabletView] | None:
    session = signing.device_session(db, cookie)
    if session is None or not signing.locks(session):
        return None
    return session, signing.tablet_view(db, session)


async def device_view(request: Request) -> tuple[SigningSession, TabletView] | None:
    return await in_session(_device, request.cookies.get(COOKIE))


# Pages -------------------------------------------------------------------------------------


def _sign_page(view: TabletView, status: int = 200, **errors: str) -> HTMLResponse:
    staff = view.step is Step.PRACTITIONER
    locale_id = view.staff_locale if staff else view.locale
    statement = _STATEMENTS.get(view.role or "")
    if view.role == "patient" and "guardian" in view.roles:
        statement = _STATEMENTS["minor"]
    return page(
        "sign.html",
        locale_id,
        status,
        view=view,
        statement=statement,
        errors=errors,
        other_error=bool(set(errors) - {"name"}),
    )


def _view_page(view: TabletView, **context: Any) -> Response:
    """The page of the step the session is at."""
    if view.step in (Step.SIGN, Step.PRACTITIONER):
        return _sign_page(view)
    if view.step is Step.HANDOVER:
        return page("pin.html", view.locale, view=view, purpose="practitioner", **context)
    return page("status.html", view.staff_locale if view.staff else view.locale, view=view)


@router.get("/closed")
async def closed(request: Request) -> Response:
    found = await device_view(request)
    if found is not None:
        return _redirect(SIGN_PATH)
    return _clear_cookie(page("closed.html", _browser_locale(request)))


@router.get("/static/{name}")
async def static(name: str) -> Response:
    match = _STATIC.fullmatch(name)
    path = static_folder() / name
    if match is None or not path.is_file():
        return Response(status_code=404, headers=SECURITY_HEADERS)
    return FileResponse(
        path,
        media_type=_MEDIA[match.group(1)],
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/page/{number}.png")
async def page_image(request: Request, number: int) -> Response:
    found = await device_view(request)
    if found is None or not 1 <= number <= found[1].pages:
        return Response(status_code=404, headers=SECURITY_HEADERS)
    pdf = await in_session(signing.shown_pdf, found[0])
    png = await run_in_threadpool(signing.page_png, pdf, number)
    return Response(png, media_type="image/png", headers=SECURITY_HEADERS)


@router.get("")
async def tablet(request: Request) -> Response:
    found = await device_view(request)
    if found is None:
        return not_found(request, forget=True)
    return _view_page(found[1])


@router.get("/leave")
async def leave_form(request: Request) -> Response:
    found = await device_view(request)
    if found is None:
        return not_found(request)
    session, view = found
    locale_id = view.staff_locale if session.staff_unlocked else view.locale
    return page("pin.html", locale_id, view=view, purpose="leave", unlocked=view.staff)


def _form_text(form: Any, name: str, limit: int = 1000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


async def _form(request: Request) -> Any:
    await read_body(request, MAX_FORM_BYTES, ("application/x-www-form-urlencoded",))
    return await request.form(max_fields=20)


def _leave_response(view: TabletView) -> Response:
    return _clear_cookie(_redirect(view.return_to))


@router.post("/pin")
async def enter_pin(request: Request) -> Response:
    found = await device_view(request)
    if found is None or not _same_origin(request):
        return not_found(request)
    form = await _form(request)
    purpose: Literal["practitioner", "leave"] = (
        "leave" if _form_text(form, "purpose") == "leave" else "practitioner"
    )
    session, view = found
    if purpose == "practitioner" and view.step is not Step.HANDOVER:
        return _redirect(SIGN_PATH)
    right = await in_session(_enter_pin, session.id, _form_text(form, "pin", 40), purpose)
    if right is None:
        return not_found(request)
    if right:
        return _leave_response(view) if purpose == "leave" else _redirect(SIGN_PATH)
    after = await device_view(request)
    if after is None:
        return not_found(request)
    if after[1].step is Step.LOCKED_OUT:
        return page("status.html", view.locale, status=403, view=after[1])
    return page("pin.html", view.locale, status=403, view=after[1], purpose=purpose, wrong=True)


def _enter_pin(
    db: Session, session_id: str, pin: str, purpose: Literal["practitioner", "leave"]
) -> bool | None:
    session = db.get(SigningSession, session_id)
    if session is None:
        return None
    return signing.enter_pin(db, session, pin, purpose)


@router.post("/leave")
async def leave(request: Request) -> Response:
    found = await device_view(request)
    if found is None or not _same_origin(request):
        return not_found(request)
    session, view = found
    if not await in_session(_leave, session.id):
        return _redirect(f"{SIGN_PATH}/leave")
    return _leave_response(view)


def _leave(db: Session, session_id: str) -> bool:
    session = db.get(SigningSession, session_id)
    return session is not None and signing.leave(db, session)


def _png(data_url: str) -> bytes:
    if not data_url.startswith(_DATA_URL):
        raise RequestError([("image", "is not a PNG image")])
    try:
        return base64.b64decode(data_url[len(_DATA_URL) :], validate=True)
    except (binascii.Error, ValueError):
        raise RequestError([("image", "is not a PNG image")]) from None


def _add_signature(db: Session, session_id: str, fields: dict[str, Any]) -> bool:
    session = db.get(SigningSession, session_id)
    if session is None:
        raise NotFoundError("no such signing session")
    return signing.add_signature(db, session, **fields)


@router.post("/signature")
async def signature(request: Request) -> Response:
    found = await device_view(request)
    if found is None or not _same_origin(request):
        return not_found(request)
    session, view = found
    form = await _form(request)
    drawn = _form_text(form, "method") != "typed"
    offset = _form_text(form, "utc_offset", 8)
    try:
        fields = {
            "role": _form_text(form, "role", 20),
            "image": _png(_form_text(form, "image", MAX_FORM_BYTES)) if drawn else None,
            "name": _form_text(form, "name", 300),
            "user_agent": request.headers.get("user-agent", ""),
            "utc_offset_minutes": int(offset) if re.fullmatch(r"-?[0-9]{1,4}", offset) else 0,
        }
        seal = await in_session(_add_signature, session.id, fields)
    except RequestError as exc:
        return _sign_page(view, 422, **dict(exc.errors))
    except ConflictError:
        return _redirect(SIGN_PATH)
    if seal:
        renders: Renders = request.app.state.renders
        finished = await renders.seal_signatures(session.id)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(finished), SEAL_WAIT)
    return _redirect(SIGN_PATH)


@router.get("/{token}")
async def open_link(request: Request, token: str) -> Response:
    if _TOKEN.fullmatch(token) is None:
        return not_found(request)
    if await device_view(request) is not None:
        return _redirect(SIGN_PATH)  # the tablet stays with the session it is locked to
    try:
        _, cookie = await in_session(signing.open_link, token)
    except NotFoundError:
        return not_found(request, forget=True)
    response = _redirect(SIGN_PATH)
    _set_cookie(response, request, cookie)
    return response


# The lock ----------------------------------------------------------------------------------


def _under_sign(path: str) -> bool:
    return path == SIGN_PATH or path.startswith(SIGN_PATH + "/")


def _locking(cookie: str) -> bool:
    """True if the cookie's session holds its tablet."""
    with db.session() as session:
        found = signing.device_session(session, cookie)
        return found is not None and signing.locks(found)


class TabletLock:
    """Every path outside ``/sign``, asked for by a browser whose signing session holds
    it, is a redirect to ``/sign``; a cookie of a session that no longer holds it is
    removed on the way."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _under_sign(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        cookie = cookie_parser(headers.get(b"cookie", b"").decode("latin-1")).get(COOKIE)
        if not cookie:
            await self.app(scope, receive, send)
            return
        try:
            holds = await run_in_threadpool(_locking, cookie)
        except Exception:  # the database is down: the tablet stays locked
            holds = True
        if holds:
            await _redirect(SIGN_PATH)(scope, receive, send)
            return

        async def forget(message: Message) -> None:
            if message["type"] == "http.response.start":
                cleared = _clear_cookie(Response()).headers.getlist("set-cookie")
                message["headers"] = [
                    *message.get("headers", []),
                    *((b"set-cookie", value.encode("latin-1")) for value in cleared),
                ]
            await send(message)

        await self.app(scope, receive, forget)


def install(app: FastAPI) -> None:
    """The tablet's pages and the lock that keeps a tablet on them."""
    app.include_router(router)
    app.add_middleware(TabletLock)
