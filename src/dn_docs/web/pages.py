"""Rendering the web app's pages: one Jinja environment, autoescaped, with the page's
translations, the signed-in user and the CSRF token every form carries."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .. import resources
from .guard import SignedIn, csrf_token, identity_token
from .i18n import Texts, negotiate


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(resources.templates_dir() / "web")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.do"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    return env


def _when(value: dt.datetime | None) -> str:
    """A time as the page shows it: UTC, to the minute (the page says so)."""
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def texts_for(request: Request, user: SignedIn | None = None) -> Texts:
    setting = user.locale if user is not None else None
    return Texts(negotiate(setting, request.headers.get("accept-language")))


def page(
    request: Request,
    template: str,
    user: SignedIn | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered for ``user`` (None on the sign-in and error pages)."""
    texts = texts_for(request, user)
    html = (
        environment()
        .get_template(template)
        .render(
            _=texts,
            texts=texts,
            ui_locale=texts.locale,
            user=user,
            csrf=csrf_token(identity_token(request, user)),
            path=request.url.path,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status)
    return response
