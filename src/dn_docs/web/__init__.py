"""The web app: server-rendered pages for practitioners, front desks and clinic admins.

Served by ``dn-docs serve`` beside the API (``/v1``), on the same service layer
(:mod:`dn_docs.service.services`); the routers here only read forms and render pages.
Pages are Jinja templates in ``templates/web/``, their CSS and JavaScript files in
``templates/web/static/`` (no inline script or style: the Content-Security-Policy is
``default-src 'self'``).
"""

from __future__ import annotations

from fastapi import FastAPI

from .errors import install_error_pages
from .headers import SecurityHeaders


def install(app: FastAPI) -> None:
    """Mount the web app's routes at ``/``, its static files at ``/static``."""
    from fastapi.staticfiles import StaticFiles

    from .. import resources
    from . import batches, clinic, documents, history, signin

    for module in (signin, documents, batches, history, clinic):
        app.include_router(module.router)
    app.mount(
        "/static",
        StaticFiles(directory=str(resources.templates_dir() / "web" / "static")),
        name="static",
    )
    install_error_pages(app)
    app.add_middleware(SecurityHeaders)
