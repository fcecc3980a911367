"""Signing in and out, the start page and the interface language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..service import db
from ..service.models import Role
from ..service.services import sign_in, users
from ..service.settings import settings
from .guard import (
    SESSION_COOKIE,
    SignedIn,
    checked_form,
    current_user,
    keep_visitor,
    set_cookie,
    signed_in,
)
from .pages import page

router = APIRouter(include_in_schema=False)


def see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def start_page(user: SignedIn) -> str:
    return "/batches" if user.role == Role.FRONT_DESK else "/documents/new"


@router.get("/")
async def home(request: Request) -> Response:
    user = await current_user(request)
    return see_other(start_page(user) if user else "/login")


@router.get("/login")
async def login_form(request: Request) -> Response:
    if (user := await current_user(request)) is not None:
        return see_other(start_page(user))
    response = page(request, "login.html", email="", problem=None)
    keep_visitor(request, response)
    return response


def _attempt(email: str, password: str, client: str) -> tuple[str, str]:
    """``("ok", token)`` with the new session's token, or ``("blocked" | "wrong", "")``."""
    with db.session() as session:
        if sign_in.blocked(session, sign_in.throttle_key(email, client)):
            return "blocked", ""
        done = sign_in.sign_in(session, email, password, client, settings().session_hours)
        if done is None:
            return "wrong", ""
        return "ok", done[1]


@router.post("/login")
async def login(request: Request) -> Response:
    form = await checked_form(request, None)
    email, password = str(form.get("email") or ""), str(form.get("password") or "")
    client = request.client.host if request.client else "unknown"
    outcome, token = await run_in_threadpool(_attempt, email[:254], password, client)
    if outcome != "ok":
        status = 429 if outcome == "blocked" else 401
        return page(request, "login.html", status=status, email=email[:254], problem=outcome)
    response = see_other("/")
    set_cookie(response, SESSION_COOKIE, token, int(settings().session_hours * 3600))
    return response


def _sign_out(token: str) -> None:
    with db.session() as session:
        sign_in.sign_out(session, token)


@router.post("/logout")
async def logout(request: Request, user: Annotated[SignedIn, Depends(signed_in)]) -> Response:
    await checked_form(request, user)
    await run_in_threadpool(_sign_out, user.token)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _set_locale(user_id: str, locale: str | None) -> None:
    with db.session() as session:
        users.set_locale(session, user_id, locale)


@router.post("/account/language")
async def set_language(request: Request, user: Annotated[SignedIn, Depends(signed_in)]) -> Response:
    form = await checked_form(request, user)
    chosen = str(form.get("locale") or "")
    await run_in_threadpool(_set_locale, user.user_id, chosen or None)
    back = str(form.get("next") or "")
    return see_other(back if back.startswith("/") and not back.startswith("//") else "/")
