"""Shared fixtures. WeasyPrint's log is a signal: any warning it emits fails the test."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from batch_support import EXPORTS, day_patients
from helpers import Pdf, make_request

import dn_docs
from dn_docs.pdf.diagnostics import LogCollector

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"


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


@pytest.fixture(scope="session")
def day_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same 40 patients exported five ways: name → file (see batch_support.EXPORTS)."""
    folder = tmp_path_factory.mktemp("exports")
    patients = day_patients(40)
    files = {}
    for name, (export, file_name, _, _) in EXPORTS.items():
        export(folder / file_name, patients)
        files[name] = folder / file_name
    return files
