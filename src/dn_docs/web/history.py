"""The clinic's recent documents, found by patient name or id, to open and print again.

Names and ids are opened from the sealed requests for the clinic's own signed-in users
only; a search is a form post, so what was searched for never goes into a URL or a log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ..service.api.deps import in_session
from ..service.services import documents
from ..service.services.access import Caller
from .documents import _summary
from .guard import SignedIn, checked_form, signed_in
from .i18n import language_choices
from .pages import page, texts_for

router = APIRouter(include_in_schema=False)
SignedInUser = Annotated[SignedIn, Depends(signed_in)]


def _found(db: Session, caller: Caller, query: str) -> list[dict[str, Any]]:
    wanted = query.casefold().strip()
    found = [_summary(d) for d in documents.recent_documents(db, caller, limit=500)]
    if wanted:
        found = [
            d
            for d in found
            if wanted in d["patient_name"].casefold() or wanted in d["patient_id"].casefold()
        ]
    return found[:100]


def _history_page(request: Request, user: SignedIn, query: str, found: list[Any]) -> Response:
    names = dict(language_choices(texts_for(request, user).locale))
    return page(request, "history.html", user, query=query, found=found, language_name=names)


@router.get("/history")
async def history(request: Request, user: SignedInUser) -> Response:
    found = await in_session(_found, user.caller, "")
    return _history_page(request, user, "", found)


@router.post("/history")
async def search(request: Request, user: SignedInUser) -> Response:
    form = await checked_form(request, user)
    query = str(form.get("q") or "")[:120]
    found = await in_session(_found, user.caller, query)
    return _history_page(request, user, query, found)
