"""``/v1/content``, ``/v1/locales`` and ``/v1/verify``: what the service prints, and
checking a printed consent."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..problems import responses
from ..services import catalog
from ..services.verify import verify_pdf
from .deps import CallerDep, idempotent, read_body
from .documents import IdempotencyKey
from .schemas import ContentItemOut, ContentOut, LocaleOut, VerifyOut, binary_body

router = APIRouter(prefix="/v1", tags=["reference"])

#: The largest PDF accepted for verification.
MAX_VERIFY_BYTES = 20 * 2**20
PDF_TYPES = ("application/pdf", "application/octet-stream")


@router.get(
    "/content",
    summary="The clinical content catalog, each statement with its citations (no key needed)",
    response_model=ContentOut,
)
async def get_content() -> ContentOut:
    version, items = catalog.content_items()
    return ContentOut(version=version, items=[ContentItemOut(**asdict(i)) for i in items])


@router.get(
    "/locales", summary="The shipped languages (no key needed)", response_model=list[LocaleOut]
)
async def get_locales() -> list[LocaleOut]:
    return [LocaleOut(**asdict(language)) for language in catalog.languages()]


@router.post(
    "/verify",
    summary="Check a consent PDF against its embedded record",
    response_model=VerifyOut,
    responses=responses(401, 409, 413, 415, 422, 503),
    openapi_extra=binary_body(*PDF_TYPES),
)
async def verify(
    request: Request,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    body = await read_body(request, MAX_VERIFY_BYTES, PDF_TYPES)

    async def produce() -> Response:
        result = await run_in_threadpool(verify_pdf, body)
        return JSONResponse(VerifyOut(**result).model_dump(mode="json"))

    return await idempotent(request, caller, body, produce)
