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
from batch_support import EXPORTS, day_patients
from helpers import Pdf, make_request
from signing_support import TimestampAuthority, start_timestamp_authority

import dn_docs
from dn_docs.pdf.diagnostics import LogCollector
from dn_docs.signing import DevCredentials, write_dev_ca
from dn_docs.signing.settings import (
    SEAL_HANDOUTS,
    SIGNING_KEY,
    SIGNING_PASSWORD,
    TRUST_ROOTS,
    TSA_URL,
)

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


# Sealing ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_sealing_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents are unsealed unless a test configures a key (``sealing``)."""
    for name in (SIGNING_KEY, SIGNING_PASSWORD, TSA_URL, SEAL_HANDOUTS, TRUST_ROOTS):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def dev_ca(tmp_path_factory: pytest.TempPathFactory) -> DevCredentials:
    """The development CA and clinic certificate, as ``dn-docs certs dev-ca`` makes them."""
    return write_dev_ca(tmp_path_factory.mktemp("dev-ca"))


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> DevCredentials:
    """Another development CA: what someone without the clinic's key could make."""
    return write_dev_ca(tmp_path_factory.mktemp("other-ca"))


@pytest.fixture
def sealing(monkeypatch: pytest.MonkeyPatch, dev_ca: DevCredentials) -> DevCredentials:
    """The environment ``dn-docs certs dev-ca`` prints, set: consents are sealed."""
    for line in dev_ca.environment_lines():
        name, value = line.split("=", 1)
        monkeypatch.setenv(name, value)
    return dev_ca


@pytest.fixture(scope="session")
def timestamp_authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimestampAuthority]:
    """A real RFC 3161 timestamp authority process on 127.0.0.1."""
    authority = start_timestamp_authority(tmp_path_factory.mktemp("tsa"))
    yield authority
    authority.process.terminate()
    authority.process.wait(timeout=10)
    if authority.process.stdout is not None:
        authority.process.stdout.close()
