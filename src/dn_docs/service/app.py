"""The FastAPI application: ``create_app()`` (uvicorn's factory for ``dn-docs serve``)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .. import web
from ..errors import DnDocsError
from ..examples import example_request
from ..request import DocumentRequest
from ..version import __version__
from ..web import tablet
from . import db, problems
from .api import batches, clinic, documents, health, reference, signing
from .rendering import create_renders
from .security import cipher
from .services.retention import purge_expired
from .settings import settings

log = logging.getLogger("dn_docs.service")

#: Fields a request to the API may leave out: the clinic's profile fills them.
DEFAULTED = ("clinic", "practitioner", "locale")


async def _purge_periodically(interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(purge_expired)
        except Exception as exc:  # the next run tries again
            log.warning("retention purge failed: %s", type(exc).__name__)


def _prepare_validation() -> None:
    """Validate an example with text beyond ASCII once: the first such request reads every
    installed font's character set (some 400 ms the event loop would wait for)."""
    from ..request import parse_request

    parse_request(example_request("es", "consent"))


def _check_schema() -> None:
    config = settings()
    if db.is_current():
        return
    if not config.embedded:
        raise DnDocsError("the database schema is not current: run `dn-docs db upgrade`")
    log.info("creating or upgrading the embedded database %s", config.database)
    db.upgrade()


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    config = settings()
    if config.embedded:
        config.prepare_data_dir()
    cipher()  # the key is there (or made) before the first request
    await run_in_threadpool(_check_schema)
    await run_in_threadpool(_prepare_validation)
    renders = create_renders(config)
    app.state.renders = renders
    await renders.start()
    purging = asyncio.get_running_loop().create_task(_purge_periodically(config.purge_interval))
    log.info(
        "dn-docs %s serving: %s database, %s",
        __version__,
        db.engine().dialect.name,
        f"Celery queue {config.queue!r}"
        if config.broker_url
        else f"{config.render_processes} local render processes",
    )
    try:
        yield
    finally:
        purging.cancel()
        await renders.close()


def request_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The request body's JSON schema and its definitions, with what the clinic's profile
    fills made optional and ``clinic.logo`` (set once per clinic) left out."""
    schema = DocumentRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    schema["required"] = [name for name in schema.get("required", []) if name not in DEFAULTED]
    clinic_schema = copy.deepcopy(definitions["Clinic"])
    clinic_schema["properties"].pop("logo", None)
    clinic_schema.pop("required", None)
    definitions["Clinic"] = clinic_schema
    schema["title"] = "Request"
    example = example_request("en", "consent")
    example["clinic"].pop("logo", None)
    schema["examples"] = [example]
    return schema, definitions


def create_app() -> FastAPI:
    app = FastAPI(
        title="dn-docs",
        version=__version__,
        summary="Dry-needling consent forms and aftercare handouts as PDFs",
        lifespan=lifespan,
    )
    problems.install(app)
    for module in (health, documents, batches, clinic, reference, signing):
        app.include_router(module.router)
    web.install(app)
    # Added last, so its lock wraps every page: a tablet in a patient's hands stays on /sign.
    tablet.install(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            spec = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            components = spec.setdefault("components", {}).setdefault("schemas", {})
            body, definitions = request_schema()
            components.update(definitions)
            components["Request"] = body
            components["Problem"] = problems.Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            components.update(components["Problem"].pop("$defs", {}))
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
