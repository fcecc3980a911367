"""Where dn-docs finds its templates, catalogs and bundled assets.

A source checkout keeps them at the top of the repository; a built wheel carries
them inside the package under ``_resources``. ``DN_DOCS_HOME`` overrides both,
for deployments that keep customised templates elsewhere.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from .errors import DnDocsError

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def home() -> Path:
    candidates = []
    if env := os.environ.get("DN_DOCS_HOME"):
        candidates.append(Path(env))
    candidates += [_PACKAGE_DIR / "_resources", _PACKAGE_DIR.parent.parent]
    for candidate in candidates:
        if (candidate / "templates").is_dir() and (candidate / "locales").is_dir():
            return candidate.resolve()
    raise DnDocsError(
        "cannot find the templates/ and locales/ folders; set DN_DOCS_HOME to the dn-docs checkout"
    )


def templates_dir() -> Path:
    return home() / "templates"


def locales_dir() -> Path:
    return home() / "locales"


def assets_dir() -> Path:
    return home() / "templates" / "assets"


@cache
def print_css() -> str:
    """The print stylesheet every document uses."""
    return (assets_dir() / "print.css").read_text(encoding="utf-8")
