"""Who is signed in, and the CSRF check every form post passes.

The session cookie holds a random token (the database keeps its SHA-256). A visitor who
is not signed in gets a random ``dn_docs_visitor`` cookie instead, so the sign-in form has
a CSRF token too. A form's token is a keyed digest of the cookie's token: a page of
another site can neither read it nor make it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from ..errors import DnDocsError, RequestError
from ..service import db
from ..service.models import Role
from ..service.security import web_digest
from ..service.services import sign_in
from ..service.services.access import Caller
from ..service.services.users import caller_of
from ..service.settings import settings

SESSION_COOKIE = "dn_docs_session"
VISITOR_COOKIE = "dn_docs_visitor"
CSRF_FIELD = "csrf_token"


class SignInRequiredError(DnDocsError):
    """No valid session: the browser is sent to the sign-in page."""


class CsrfRefusedError(DnDocsError):
    """A form post without this browser's CSRF token."""


@dataclass(frozen=True)
class SignedIn:
    """The signed-in user, as the pages and the service layer need them."""

    user_id: str
    clinic_id: str
    name: str
    email: str
    role: Role
    locale: str | None
    token: str

    @property
    def caller(self) -> Caller:
        return Caller(clinic_id=self.clinic_id, actor=f"user:{self.user_id}", role=self.role)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def _lookup(token: str | None) -> SignedIn | None:
    with db.session() as session:
        user = sign_in.session_user(session, token)
        if user is None or token is None:
            return None
        caller = caller_of(user)
        return SignedIn(
            user.id, caller.clinic_id, user.name, user.email, caller.role, user.locale, token
        )


async def current_user(request: Request) -> SignedIn | None:
    return await run_in_threadpool(_lookup, request.cookies.get(SESSION_COOKIE))


async def signed_in(request: Request) -> SignedIn:
    """A route's dependency: the signed-in user, or off to the sign-in page."""
    user = await current_user(request)
    if user is None:
        raise SignInRequiredError("sign in first")
    return user


def identity_token(request: Request, user: SignedIn | None) -> str:
    """What this browser's CSRF token is derived from: its session or visitor cookie."""
    if user is not None:
        return user.token
    visitor = request.cookies.get(VISITOR_COOKIE)
    if visitor is None or len(visitor) > 100:
        visitor = getattr(request.state, "new_visitor", None)
        if visitor is None:
            visitor = request.state.new_visitor = secrets.token_urlsafe(24)
    return str(visitor)


def csrf_token(identity: str) -> str:
    return web_digest("csrf", identity)


def set_cookie(response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings().secure_cookies,
        path="/",
    )


def keep_visitor(request: Request, response: Response) -> None:
    """Give a browser that has no visitor cookie the one its page's token was made from."""
    new = getattr(request.state, "new_visitor", None)
    if new is not None:
        set_cookie(response, VISITOR_COOKIE, new, None)


async def checked_form(request: Request, user: SignedIn | None, max_files: int = 0) -> FormData:
    """The posted form, if it carries this browser's CSRF token; CsrfRefusedError otherwise."""
    try:
        form = await request.form(max_files=max_files, max_fields=400)
    except Exception:  # the multipart parser's errors are the browser's framing
        raise RequestError([("form", "could not be read; send it again")]) from None
    given = form.get(CSRF_FIELD)
    if user is None and VISITOR_COOKIE not in request.cookies:
        raise CsrfRefusedError("no visitor cookie")
    expected = csrf_token(identity_token(request, user))
    if not isinstance(given, str) or not hmac.compare_digest(given, expected):
        raise CsrfRefusedError("the form's CSRF token is missing or wrong")
    return form
