"""Shared fixtures. WeasyPrint's log is a signal: any warning it emits fails the test."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Pdf, make_request

import dn_docs
from dn_docs.pdf.diagnostics import LogCollector

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"

_CACHE = "DN_DOCS_CACHE_DIR"


def pytest_configure(config: pytest.Config) -> None:
    # The acceleration's self-test verdicts go to a folder of this test run (and of the
    # processes it starts), never to the user's cache.
    os.environ[_CACHE] = tempfile.mkdtemp(prefix="dn-docs-test-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.pop(_CACHE), ignore_errors=True)


@pytest.fixture(autouse=True)
def weasyprint_is_silent(request: pytest.FixtureRequest) -> Iterator[None]:
    recorder = LogCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(recorder)
    try:
        yield
    finally:
        logger.removeHandler(recorder)
    if "weasyprint_may_warn" not in request.keywords:
        messages = [r.getMessage()[:200] for r in recorder.records]
        assert not messages, f"WeasyPrint logged: {messages}"


@pytest.fixture
def render() -> Callable[..., Pdf]:
    def _render(request: dict[str, Any] | None = None, **changes: Any) -> Pdf:
        return Pdf(dn_docs.render_pdf(request or make_request(**changes)))

    return _render


@pytest.fixture(scope="session")
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}")
    return SEEDS
