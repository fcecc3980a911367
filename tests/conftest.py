"""Shared fixtures. WeasyPrint's log is a signal: any warning it emits fails the test."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Pdf, make_request

import dn_docs
from dn_docs.pdf.diagnostics import LogCollector

REPO = Path(__file__).resolve().parent.parent
# The seed articles live in shared/seeds next to the clone, or next to the folder that
# holds a worktree of it.
SEEDS = next(
    (
        folder / "shared" / "seeds"
        for folder in REPO.parents
        if (folder / "shared" / "seeds").is_dir()
    ),
    REPO.parent / "shared" / "seeds",
)


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
