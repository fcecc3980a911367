"""Safe outputs and interruptions: the output lock, links, the workers' output root,
failures recorded, damaged manifests, Ctrl-C and SIGTERM then --resume, bounded waits."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_support import Workers, clinic_defaults, free_port, write_batch
from click.testing import CliRunner
from helpers import make_request
from test_batch import (
    SHARED_REDIS,
    check_outputs,
    manifest,
    pdf_files,
    shared_redis,
    wait_for_done,
    workers,
)

from dn_docs.batch import CeleryDispatcher, LocalDispatcher, run_batch
from dn_docs.batch.inputs import plan
from dn_docs.batch.jobs import payload, run_job
from dn_docs.batch.lock import output_lock
from dn_docs.batch.references import resolve
from dn_docs.cli import main
from dn_docs.errors import BatchAbortedError

DN_DOCS = str(Path(sys.executable).with_name("dn-docs"))
__all__ = ["shared_redis", "workers"]  # fixtures used here


def clinic_file(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.json"
    path.write_text(json.dumps(clinic_defaults()))
    return path


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


# The output folder ------------------------------------------------------------------------


def test_a_second_batch_into_a_busy_folder_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    write_batch(source, rows=2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "00002-consent-en.pdf").write_bytes(b"the first batch's document")
    with output_lock(out.resolve()):
        code, _, err = run_cli("batch", str(source), "--clinic", str(clinic_file(tmp_path)),
                               "--out", str(out))  # fmt: skip
    assert code == 1 and err.count("\n") == 1
    assert f"process {os.getpid()}" in err and "another dn-docs batch" in err
    assert (out / "00002-consent-en.pdf").read_bytes() == b"the first batch's document"
    # Once the first batch is gone, the folder is free again.
    code, out_text, _ = run_cli("batch", str(source), "--clinic", str(clinic_file(tmp_path)),
                                "--out", str(out), "--workers", "1")  # fmt: skip
    assert code == 0, out_text


def test_render_refuses_to_write_through_a_planted_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "consent.pdf"
    link.symlink_to(victim)
    request = tmp_path / "request.json"
    request.write_text(json.dumps(make_request()))
    code, _, err = run_cli("render", str(request), "-o", str(link))
    assert code == 1 and err.count("\n") == 1 and "symbolic link" in err
    assert victim.read_text() == "keep me" and link.is_symlink()


def test_a_batch_refuses_links_planted_in_its_folder(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    expected, _ = write_batch(source, rows=3, kinds_every=100)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / "00003-aftercare-es.pdf").symlink_to(victim)
    summary = run_batch(source, out, LocalDispatcher(workers=1), clinic_defaults())
    assert (summary.done, summary.failed) == (expected - 1, 1)
    (failed,) = [e for e in manifest(out) if e["status"] == "failed"]
    assert failed["file"] == "00003-aftercare-es.pdf" and "symbolic link" in failed["error"]
    assert victim.read_text() == "keep me"
    (out / "manifest.json").unlink()
    (out / "manifest.json").symlink_to(victim)
    code, _, err = run_cli("batch", str(source), "--clinic", str(clinic_file(tmp_path)),
                           "--out", str(out), "--workers", "1")  # fmt: skip
    assert code == 1 and "symbolic link" in err and err.count("\n") == 1
    assert victim.read_text() == "keep me"


def test_a_damaged_manifest_is_rebuilt_by_resume_and_refused_by_purge(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    expected, _ = write_batch(source, rows=4, kinds_every=2)
    out = tmp_path / "out"
    run_batch(source, out, LocalDispatcher(workers=2), clinic_defaults())
    before = {name: (out / name).stat().st_mtime_ns for name in pdf_files(out)}
    for damage in (b'{"documents": [{"row": "x"', b"\xff\xfe garbage", b'{"documents": 3}'):
        (out / "manifest.json").write_bytes(damage)
        code, _, err = run_cli("purge", "--out", str(tmp_path), "--older-than", "1d")
        assert code == 1 and err.count("\n") == 1 and "is damaged" in err, err
        code, text, err = run_cli("batch", str(source), "--clinic", str(clinic_file(tmp_path)),
                                  "--out", str(out), "--resume", "--workers", "1")  # fmt: skip
        assert code == 0 and "Traceback" not in text + err, text + err
        assert "manifest.json was damaged; rebuilt from" in err
        consents = [n for n in before if "-consent-" in n]
        # Consents carry their request: they are known unchanged and not rendered again.
        assert f"already done: {len(consents)}" in _already(text)
        assert all((out / n).stat().st_mtime_ns == before[n] for n in consents)
        check_outputs(out, expected)


def _already(summary: str) -> str:
    """``already done: N`` from a summary line, for a readable assertion."""
    for part in summary.split(","):
        if "already done" in part:
            return "already done: " + part.split()[0].strip()
    return summary


# Interruptions ----------------------------------------------------------------------------


def interrupt_then_resume(
    tmp_path: Path, extra: list[str], sig: int, env: dict[str, str] | None = None
) -> None:
    """Start a real ``dn-docs batch``, send ``sig`` to its process group as a terminal's
    Ctrl-C would, then check that every PDF on disk is recorded and that --resume renders
    only what is missing."""
    source = tmp_path / "day.csv"
    expected, _ = write_batch(source, rows=30, kinds_every=100)
    out = tmp_path / "out"
    command = [DN_DOCS, "batch", str(source), "--clinic", str(clinic_file(tmp_path)),
               "--out", str(out), *extra]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    wait_for_done(out, 3, timeout=180, process=process)
    os.killpg(process.pid, sig)
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 128 + sig, (stdout, stderr)
    assert b"Traceback" not in stderr
    assert f"stopped by {signal.Signals(sig).name}".encode() in stdout
    # Every PDF on disk is in the manifest as done, with its hash; nothing half-written.
    entries = {e["file"]: e for e in manifest(out)}
    on_disk = pdf_files(out)
    assert 3 <= len(on_disk) < expected
    for name in on_disk:
        assert entries[name]["status"] == "done", name
    assert sum(e["status"] == "done" for e in entries.values()) == len(on_disk)
    assert not list(out.glob(".*.part")) and not (out / ".dn-docs-requests").exists()
    before = {name: (out / name).stat() for name in on_disk}

    result = subprocess.run(
        [*command, "--resume"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"documents: {expected - len(on_disk)} rendered, {len(on_disk)} already done"
        in result.stdout
    )
    for name, stat in before.items():  # not one of them written again
        after = (out / name).stat()
        assert (after.st_ino, after.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns), name
    check_outputs(out, expected)


def test_ctrl_c_then_resume_renders_nothing_twice(tmp_path: Path) -> None:
    interrupt_then_resume(tmp_path, ["--workers", "2"], signal.SIGINT)


@pytest.mark.broker
def test_sigterm_on_a_celery_batch_then_resume_renders_nothing_twice(
    tmp_path: Path, workers: Workers
) -> None:
    # The fixture's 5 s visibility timeout hands a message that is still rendering to a
    # second process; after the stop that copy finds its requests withdrawn and reports so.
    workers.env["DN_DOCS_VISIBILITY_TIMEOUT"] = "120"
    workers.start(count=1, concurrency=2)
    interrupt_then_resume(
        tmp_path,
        ["--broker", workers.broker, "--queue", workers.queue, "--worker-wait", "20"],
        signal.SIGTERM,
    )


# Workers and brokers ----------------------------------------------------------------------


@pytest.mark.broker
def test_no_worker_on_the_queue_ends_the_batch_after_a_bounded_wait(
    tmp_path: Path, shared_redis: str
) -> None:
    source = tmp_path / "day.csv"
    expected, _ = write_batch(source, rows=3)
    out = tmp_path / "out"
    started = time.monotonic()
    code, _, err = run_cli("batch", str(source), "--clinic", str(clinic_file(tmp_path)),
                           "--out", str(out), "--broker", shared_redis, "--queue",
                           "nobody-consumes-this", "--worker-wait", "2")  # fmt: skip
    assert time.monotonic() - started < 30
    assert code == 1 and err.count("\n") == 1
    assert "no worker is consuming queue 'nobody-consumes-this'" in err
    # Nothing was lost: every document is recorded as not yet done, for --resume.
    assert [e["status"] for e in manifest(out)] == ["pending"] * expected
    assert not (out / ".dn-docs-requests").exists()


def test_an_unreachable_broker_ends_the_batch_after_a_bounded_time(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    write_batch(source, rows=2)
    nowhere = f"redis://:secret@127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    env_wait = {"DN_DOCS_BROKER_WAIT": "2"}
    result = CliRunner(env=env_wait).invoke(
        main,
        ["batch", str(source), "--clinic", str(clinic_file(tmp_path)), "--out",
         str(tmp_path / "out"), "--broker", nowhere],
    )  # fmt: skip
    assert time.monotonic() - started < 30
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
    assert "has been unreachable for 2 s" in result.stderr
    assert "secret" not in result.stderr


@pytest.mark.broker
def test_workers_write_only_under_their_output_root(tmp_path: Path, shared_redis: str) -> None:
    root = tmp_path / "root"
    (root / "day").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "linked").symlink_to(elsewhere)
    source = tmp_path / "day.csv"
    write_batch(source, rows=1, kinds_every=100)
    job = plan(source, clinic_defaults()).jobs[0]
    when = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    logs = tmp_path / "logs"
    logs.mkdir()
    pool = Workers(shared_redis, logs, DN_DOCS_OUTPUT_ROOT=str(root))
    try:
        pool.start(count=1)
        results: dict[str, dict] = {}
        payloads = {
            "inside": payload(job, root / "day", when),
            "outside": payload(job, elsewhere, when),
            "dotdot": payload(job, root / "day", when) | {"out_dir": f"{root}/day/../../elsewhere"},
            "link": payload(job, root / "linked", when),
        }
        pool.dispatcher().run(payloads, lambda key, result: results.__setitem__(key, result))
    finally:
        pool.stop()
    assert results["inside"]["status"] == "done"
    assert (root / "day" / job.file_name).is_file()
    assert "outside the output root" in results["outside"]["error"]
    assert "not a plain absolute path" in results["dotdot"]["error"]
    assert "symbolic link" in results["link"]["error"]
    assert not list(elsewhere.iterdir())


@pytest.mark.broker
def test_a_failure_result_is_recorded_as_failed(tmp_path: Path, workers: Workers) -> None:
    """A message the worker's task raises on comes back as Celery's FAILURE."""
    source = tmp_path / "day.csv"
    write_batch(source, rows=2, kinds_every=100)
    jobs = plan(source, clinic_defaults()).jobs
    out = tmp_path / "out"
    out.mkdir()
    when = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    payloads = {job.file_name: payload(job, out, when) for job in jobs}
    payloads["broken.pdf"] = {"file": "broken.pdf"}  # no output folder: the task raises
    workers.start(count=1)
    results: dict[str, dict] = {}
    workers.dispatcher().run(payloads, lambda key, result: results.__setitem__(key, result))
    assert results["broken.pdf"] == {"status": "failed", "error": "worker error: KeyError"}
    assert all(results[job.file_name]["status"] == "done" for job in jobs)
    # The worker's main process logs the failure after it stores the result.
    deadline = time.monotonic() + 30
    while "raised unexpected: KeyError" not in workers.log(0):
        assert time.monotonic() < deadline, workers.log(0)[-2000:]
        time.sleep(0.1)


def test_the_default_queue_is_dn_docs_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from worker import create_app

    monkeypatch.delenv("DN_DOCS_QUEUE", raising=False)
    assert create_app(SHARED_REDIS).conf.task_default_queue == "dn-docs"
    assert CeleryDispatcher(create_app(SHARED_REDIS)).queue == "dn-docs"
    monkeypatch.setenv("DN_DOCS_QUEUE", "clinic-a")
    assert create_app(SHARED_REDIS).conf.task_default_queue == "clinic-a"


def test_a_batch_aborted_by_the_dispatcher_keeps_what_it_recorded(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    expected, _ = write_batch(source, rows=4, kinds_every=100)

    class GivesUpAfterTwo:
        by_reference = True

        def run(self, payloads, on_result, stop=None) -> None:
            for key in list(payloads)[:2]:
                on_result(key, _render(payloads[key]))
            raise BatchAbortedError("the broker went away")

    def _render(job_payload: dict) -> dict:
        request = resolve(job_payload["ref"], Path(job_payload["out_dir"]))
        return run_job({**job_payload, "request": request})

    out = tmp_path / "out"
    with pytest.raises(BatchAbortedError):
        run_batch(source, out, GivesUpAfterTwo(), clinic_defaults())
    statuses = [e["status"] for e in manifest(out)]
    assert statuses == ["done", "done"] + ["pending"] * (expected - 2)
    assert len(pdf_files(out)) == 2 and (out / "packets.pdf").exists()
    assert not (out / ".dn-docs-requests").exists()


# Requests by reference ----------------------------------------------------------------------


def test_requests_wait_in_owner_only_files_that_go_when_done(tmp_path: Path) -> None:
    from dn_docs.batch import FileRequestStore, RequestWithdrawnError, register_source
    from dn_docs.batch.references import SOURCES
    from dn_docs.errors import DnDocsError

    stale = tmp_path / ".dn-docs-requests" / ("0" * 32)
    stale.mkdir(parents=True)  # left by a batch that was killed outright
    store = FileRequestStore.open(tmp_path)
    assert not stale.exists()
    request = make_request()
    reference = store.put("00002-consent-en.pdf", request)
    assert reference == {"scheme": "file", "run": store.run, "name": "00002-consent-en.json"}
    path = store.folder / "00002-consent-en.json"
    assert path.stat().st_mode & 0o777 == 0o600 and store.folder.stat().st_mode & 0o777 == 0o700
    assert resolve(reference, tmp_path) == request
    store.discard("00002-consent-en.pdf")
    with pytest.raises(RequestWithdrawnError):
        resolve(reference, tmp_path)
    # A reference cannot point a worker at any other file.
    for name in ("../../../etc/passwd", "00002-consent-en.json/../x.json"):
        with pytest.raises(DnDocsError, match="not one a batch writes"):
            resolve({**reference, "name": name}, tmp_path)
    with pytest.raises(DnDocsError, match="no request source"):
        resolve({"scheme": "db", "id": "42"}, tmp_path)
    # Another kind of store plugs in by its scheme, e.g. a database read by document id.
    register_source("db", lambda ref, out_dir: {**request, "kind": "aftercare"})
    try:
        assert resolve({"scheme": "db", "id": "42"}, tmp_path)["kind"] == "aftercare"
    finally:
        del SOURCES["db"]
    store.close()
    assert not (tmp_path / ".dn-docs-requests").exists()
