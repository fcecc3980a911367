"""``dn-docs doctor``, run as a clinic's IT person runs it: the real command, in a new process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from dn_docs import doctor
from dn_docs.installation import lock_file

DN_DOCS = str(Path(sys.executable).with_name("dn-docs"))
REDIS_DB = os.environ.get("DN_DOCS_TEST_REDIS_DB", "15")


def _doctor(*arguments: str, **environment: str) -> tuple[int, dict[str, str]]:
    """The exit status and each check's line, by check name."""
    env = {key: value for key, value in os.environ.items() if key != "DN_DOCS_BROKER_URL"}
    env.update(environment)
    completed = subprocess.run(
        [DN_DOCS, "doctor", *arguments], capture_output=True, text=True, env=env, check=False
    )
    assert completed.stderr == ""
    lines = {}
    for line in completed.stdout.splitlines():
        status, _, rest = line.partition(" ")
        name, _, detail = rest.strip().partition(": ")
        assert status in ("ok", "problem"), line
        lines[name] = f"{status}: {detail}"
    return completed.returncode, lines


CHECKS = [
    "fonts",
    "compact CJK fonts",
    "font subsetting",
    "catalogs",
    "acceleration",
    "installed versions",
    "broker",
    "output folder",
]


def test_a_sound_installation_is_all_ok(tmp_path: Path) -> None:
    status, lines = _doctor("--out", str(tmp_path / "out"))
    assert list(lines) == CHECKS
    assert all(line.startswith("ok: ") for line in lines.values()), lines
    assert status == 0
    assert lines["acceleration"].startswith("ok: on: verified: 5 examples identical")
    assert "18 languages" in lines["fonts"]
    assert lines["installed versions"] == "ok: exactly the versions in requirements.lock"
    assert not (tmp_path / "out").exists()  # checked, not made


def test_the_acceleration_turned_off_is_reported_and_not_a_problem(tmp_path: Path) -> None:
    status, lines = _doctor("--out", str(tmp_path), DN_DOCS_ACCELERATE="0")
    assert lines["acceleration"] == "ok: off: turned off by DN_DOCS_ACCELERATE=0"
    assert status == 0


def test_the_broker_is_reached_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    monkeypatch.delenv("DN_DOCS_BROKER_URL", raising=False)
    assert doctor.check_broker() == doctor.Check(
        "broker", True, "none configured (batches use a local process pool)"
    )
    monkeypatch.setenv("DN_DOCS_BROKER_URL", url)
    assert doctor.check_broker() == doctor.Check("broker", True, f"{url} answers")


def test_an_unreachable_broker_and_an_unwritable_output_folder_are_problems(
    tmp_path: Path,
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    closed = "redis://:s3cret@127.0.0.1:9/0"  # the discard port: nothing answers there
    status, lines = _doctor("--out", str(a_file), DN_DOCS_BROKER_URL=closed)
    assert status == 1
    unreachable = "redis://:***@127.0.0.1:9/0 is not reachable (ConnectionError)"
    assert lines["broker"] == f"problem: {unreachable}"
    assert "s3cret" not in str(lines)
    assert lines["output folder"] == f"problem: {a_file} is not a folder"
    assert lines["fonts"].startswith("ok")


def test_a_folder_that_cannot_be_made_is_a_problem(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    check = doctor.check_output_folder(a_file / "out")
    assert not check.ok and "cannot be written to" in check.detail


def test_a_check_that_fails_to_run_is_a_problem_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken() -> doctor.Check:
        raise OSError("no such device")

    monkeypatch.setattr(doctor, "check_subsetting", broken)
    skipped = doctor.Check("acceleration", True, "not run here")
    monkeypatch.setattr(doctor, "check_acceleration", lambda: skipped)
    checks = {check.name: check for check in doctor.run_checks(tmp_path)}
    assert checks["font subsetting"] == doctor.Check(
        "font subsetting", False, "could not check (OSError: no such device)"
    )


def test_a_version_that_differs_from_the_lock_is_a_problem(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(lock_file().read_text().replace("weasyprint==70.0", "weasyprint==70.1"))
    monkeypatch.setattr("dn_docs.installation.lock_file", lambda: lock)
    check = doctor.check_installed_versions()
    assert not check.ok
    assert check.detail.startswith("weasyprint: locked 70.1, installed 70.0")
