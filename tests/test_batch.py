"""Batches, end to end: local pool, and real Celery workers on real Redis."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import json
import logging
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
import redis
from batch_support import RedisServer, Workers, clinic_defaults, write_batch
from click.testing import CliRunner
from helpers import Pdf

from dn_docs.batch import CeleryDispatcher, LocalDispatcher, run_batch
from dn_docs.batch.dispatch import BROKER_DOWN, LAST_FEW
from dn_docs.batch.inputs import plan
from dn_docs.batch.jobs import payload
from dn_docs.batch.outputs import Entry, PrintStacks
from dn_docs.batch.references import FileRequestStore, resolve
from dn_docs.cli import main

#: The shared Redis's database the tests clear and use; two suites at once on one machine
#: each need their own (``DN_DOCS_TEST_REDIS_DB``).
SHARED_REDIS = f"redis://127.0.0.1:6379/{os.environ.get('DN_DOCS_TEST_REDIS_DB', '15')}"


def manifest(folder: Path) -> list[dict]:
    return json.loads((folder / "manifest.json").read_text())["documents"]


def pdf_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("0*.pdf"))


def check_outputs(folder: Path, expected_docs: int) -> list[dict]:
    """Exactly one readable PDF per expected document, all in the manifest, all done."""
    entries = manifest(folder)
    assert len(entries) == expected_docs
    assert len({e["file"] for e in entries}) == expected_docs
    assert all(e["status"] == "done" for e in entries), [
        e for e in entries if e["status"] != "done"
    ][:3]
    assert pdf_files(folder) == sorted(e["file"] for e in entries)
    for entry in entries:
        data = (folder / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert Pdf(data).pages == entry["pages"]
    assert not list(folder.glob(".*.part")), "temporary files left behind"
    return entries


def page_contents(pdf: pikepdf.Pdf) -> list[bytes]:
    return [page.Contents.read_bytes() for page in pdf.pages]


def check_merged(folder: Path, entries: list[dict]) -> None:
    """Each merged print stack holds every page of its kind, documents in row order."""
    for kind in ("consent", "aftercare"):
        expected: list[bytes] = []
        for entry in entries:  # the manifest lists documents in row order
            if entry["kind"] == kind and entry["status"] == "done":
                with pikepdf.open(folder / entry["file"]) as document:
                    expected += page_contents(document)
        with pikepdf.open(folder / f"merged-{kind}.pdf") as merged:
            assert len(merged.pages) == sum(e["pages"] for e in entries if e["kind"] == kind)
            assert page_contents(merged) == expected


@pytest.fixture
def shared_redis() -> Iterator[str]:
    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (bash scripts/run.sh test starts it)")
    client.flushdb()
    yield SHARED_REDIS
    client.flushdb()


@pytest.fixture
def workers(shared_redis: str, tmp_path: Path) -> Iterator[Workers]:
    logs = tmp_path / "logs"
    logs.mkdir()
    pool = Workers(shared_redis, logs)
    yield pool
    pool.stop()


def in_background(target, *args) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def run() -> None:
        try:
            box["summary"] = target(*args)
        except BaseException as exc:  # re-raised by the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def wait_for_done(
    folder: Path, count: int, timeout: float = 120, process: subprocess.Popen | None = None
) -> None:
    """Until the manifest has ``count`` documents done (``process``, if given, still running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process is None or process.poll() is None, "the batch ended too soon"
        try:
            if sum(e["status"] == "done" for e in manifest(folder)) >= count:
                return
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} documents done after {timeout} s")


# Local mode ---------------------------------------------------------------------------


def test_local_batch_writes_pdfs_manifest_merged_and_errors(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    expected, refused = write_batch(source, rows=12, invalid_every=6)
    out = tmp_path / "out"
    summary = run_batch(source, out, LocalDispatcher(workers=2), clinic_defaults())
    assert (summary.done, summary.failed, summary.invalid_rows) == (expected, 0, refused)
    entries = check_outputs(out, expected)
    check_merged(out, entries)
    errors = list(csv.DictReader((out / "errors.csv").read_text().splitlines()))
    assert len(errors) == refused
    assert all(e["field"] == "session.areas[1]" and "must be one of" in e["reason"] for e in errors)
    assert (out / entries[0]["file"]).stat().st_mode & 0o777 == 0o600
    assert out.stat().st_mode & 0o777 == 0o700


def test_print_stacks_join_documents_in_row_order_as_they_finish(tmp_path: Path) -> None:
    # Each document's pages are told apart by their width; row 2 failed, and row 0 was
    # done by an earlier run (resume).
    widths = {0: [300, 301], 1: [310], 2: [320], 3: [330, 331, 332], 4: [340]}
    order = []
    for row, page_widths in widths.items():
        with pikepdf.new() as document:
            for width in page_widths:
                document.add_blank_page(page_size=(width, 800))
            document.save(tmp_path / f"{row}.pdf")
        order.append(Entry(row, "consent", "en", f"{row}.pdf", "", status="pending"))
    order[0].status = "done"

    def stacked() -> list[int]:
        stack = stacks.stacks[0].pdf
        return [int(page.mediabox[2]) for page in stack.pages] if stack else []

    with PrintStacks(tmp_path, PrintStacks.by_kind(order)) as stacks:
        for row, status in [(3, "done"), (1, "done"), (4, "done"), (2, "failed")]:
            order[row].status = status
            stacks.add(order[row])
            if row == 3:  # rows 1 and 2 are not finished: nothing past row 0 is joined
                assert stacked() == [300, 301]
            if row == 1:
                assert stacked() == [300, 301, 310]
        assert stacked() == [300, 301, 310, 330, 331, 332, 340]  # before write
        assert [path.name for path in stacks.write()] == ["merged-consent.pdf"]
    with pikepdf.open(tmp_path / "merged-consent.pdf") as merged:
        assert [int(page.mediabox[2]) for page in merged.pages] == [
            300,
            301,
            310,
            330,
            331,
            332,
            340,
        ]
    assert not (tmp_path / "merged-aftercare.pdf").exists()


def test_resume_renders_only_what_is_missing(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    expected, _ = write_batch(source, rows=6)
    out = tmp_path / "out"
    run_batch(source, out, LocalDispatcher(workers=2), clinic_defaults())
    removed = pdf_files(out)[2]
    (out / removed).unlink()
    again = run_batch(source, out, LocalDispatcher(workers=2), clinic_defaults(), resume=True)
    assert (again.done, again.skipped) == (1, expected - 1)
    check_outputs(out, expected)


def test_cli_batch_reports_bad_rows_and_formula_cells(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    write_batch(source, rows=2)
    with source.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(["consent", "en", '=HYPERLINK("http://x","y")', "2090-01-01"])
    with source.open("ab") as handle:
        handle.write(b"consent,en,Bad \xff\xfe bytes,1980-01-01\n")
    clinic = tmp_path / "clinic.json"
    clinic.write_text(json.dumps(clinic_defaults()))
    result = CliRunner().invoke(
        main, ["batch", str(source), "--clinic", str(clinic), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 3, result.output
    text = (tmp_path / "o" / "errors.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    assert {r["row"] for r in rows} >= {"4", "5"}
    assert any("not valid UTF-8" in r["reason"] for r in rows)
    assert not any(line.split(",")[2].startswith("=") for line in text.splitlines()[1:])
    assert "HYPERLINK" not in text  # the name is not echoed at all


# Celery on Redis ----------------------------------------------------------------------


@pytest.mark.broker
def test_200_row_mixed_batch_on_real_workers(
    tmp_path: Path, workers: Workers, shared_redis: str
) -> None:
    source = tmp_path / "week.csv"
    expected, refused = write_batch(source, rows=200, invalid_every=25)
    workers.env["DN_DOCS_WARM_LANGUAGES"] = "es, xx,ar"
    workers.start(count=2)
    out = tmp_path / "out"
    dispatcher = workers.dispatcher()
    summary = run_batch(source, out, dispatcher, clinic_defaults())
    assert (summary.done, summary.failed, summary.invalid_rows) == (expected, 0, refused)
    entries = check_outputs(out, expected)
    assert {e["locale"] for e in entries} >= {"en", "es", "ar", "zh_Hans"}
    assert {e["kind"] for e in entries} == {"consent", "aftercare"}
    sample = Pdf((out / entries[0]["file"]).read_bytes())
    assert sample.contains("Patient Number 0")
    check_merged(out, entries)
    assert len(list(csv.DictReader((out / "errors.csv").read_text().splitlines()))) == refused
    # Both workers took part, each warmed up in the supported languages it was given.
    assert all("succeeded" in workers.log(n) for n in (0, 1))
    for number in (0, 1):
        assert "examples laid out in: es, ar" in workers.log(number)
    # No patient data in the result backend or the worker logs.
    client = redis.Redis.from_url(shared_redis)
    stored = b"".join(client.get(k) or b"" for k in client.keys("celery-task-meta-*"))
    assert stored and b"Patient Number" not in stored and b"ID-1" not in stored
    logs = workers.log(0) + workers.log(1)
    assert "Patient Number" not in logs and "1940-01-01" not in logs


@pytest.mark.broker
def test_monitoring_sees_the_job_file_not_the_patient(tmp_path: Path, shared_redis: str) -> None:
    """celery inspect, Flower and task events show a message's argsrepr header."""
    from worker import create_app

    source = tmp_path / "day.csv"
    write_batch(source, rows=12)
    jobs = plan(source, clinic_defaults()).jobs
    dispatcher = CeleryDispatcher(create_app(shared_redis), queue="nobody-listens")
    when = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    # More messages than go out one at a time: the rest are sent together.
    store = FileRequestStore.open(tmp_path)
    keys = dispatcher._send(
        [[payload(job, tmp_path, when, store.put(job.file_name, job.request))] for job in jobs]
    )
    raws = redis.Redis.from_url(shared_redis).lrange("nobody-listens", 0, -1)
    messages = [json.loads(raw) for raw in reversed(raws)]
    assert len(keys) == len(messages) == len(jobs) > LAST_FEW
    for job, message, key in zip(jobs, messages, keys, strict=True):
        assert message["headers"]["argsrepr"] == f"[[{job.file_name!r}]]"
        assert message["headers"]["kwargsrepr"] == "{}"
        assert key.endswith(message["headers"]["id"].encode())
        # The message carries a reference to the request, not the request.
        body = base64.b64decode(message["body"])
        assert b"Patient Number" not in body and b"ID-" not in body
        assert job.request["patient"]["date_of_birth"].encode() not in body
        (args,) = json.loads(body)[0]
        assert args[0]["ref"]["scheme"] == "file" and "request" not in args[0]
        assert (
            resolve(args[0]["ref"], tmp_path)["patient"]["name"] == f"Patient Number {job.row - 2}"
        )


def test_jobs_go_four_to_a_message_and_the_last_few_one_each() -> None:
    keys = [f"job{number}" for number in range(23)]
    messages = CeleryDispatcher.messages(keys)
    assert [key for message in messages for key in message] == keys
    assert [len(message) for message in messages] == [4] * 3 + [1] * 11
    assert CeleryDispatcher.messages(keys[:8]) == [[key] for key in keys[:8]]
    assert CeleryDispatcher.messages([]) == []


@pytest.mark.broker
def test_a_message_of_one_job_from_an_earlier_dispatcher_is_still_rendered(
    tmp_path: Path, workers: Workers
) -> None:
    """A queue may still hold ``dn_docs.render`` messages when its workers are upgraded."""
    source = tmp_path / "one.csv"
    write_batch(source, rows=1)
    jobs = plan(source, clinic_defaults()).jobs
    out = tmp_path / "out"
    out.mkdir()
    workers.start(count=1)
    app = workers.dispatcher().app
    sent = app.send_task(
        "dn_docs.render",
        args=[payload(jobs[0], out, dt.datetime(2026, 11, 21, tzinfo=dt.UTC))],
        queue=workers.queue,
    )
    result = sent.get(timeout=120)
    assert result["status"] == "done" and result["file"] == jobs[0].file_name
    assert Pdf((out / jobs[0].file_name).read_bytes()).pages == result["pages"] >= 1


@pytest.mark.broker
def test_local_and_celery_modes_write_the_same_files(
    tmp_path: Path, workers: Workers, shared_redis: str
) -> None:
    source = tmp_path / "day.csv"
    expected, _ = write_batch(source, rows=16, invalid_every=8)
    workers.start(count=1)
    celery_out, local_out = tmp_path / "celery", tmp_path / "local"
    when = dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.UTC)  # recorded in every consent
    celery = workers.dispatcher()
    run_batch(source, celery_out, celery, clinic_defaults(), generated_at=when)
    run_batch(source, local_out, LocalDispatcher(workers=2), clinic_defaults(), generated_at=when)
    assert pdf_files(celery_out) == pdf_files(local_out) and len(pdf_files(local_out)) == expected
    for name in pdf_files(local_out):
        assert (celery_out / name).read_bytes() == (local_out / name).read_bytes(), name
    assert (celery_out / "errors.csv").read_text() == (local_out / "errors.csv").read_text()


@pytest.mark.broker
def test_worker_killed_mid_batch_loses_nothing(
    tmp_path: Path, workers: Workers, shared_redis: str
) -> None:
    source = tmp_path / "day.csv"
    expected, _ = write_batch(source, rows=40)
    workers.start(count=2)
    out = tmp_path / "out"
    dispatcher = workers.dispatcher()
    thread, box = in_background(run_batch, source, out, dispatcher, clinic_defaults())
    wait_for_done(out, 4)
    workers.kill(0)  # SIGKILL to the whole worker: main process and its pool child
    thread.join(timeout=300)
    assert not thread.is_alive(), "the batch did not finish after a worker was killed"
    assert "error" not in box, box.get("error")
    assert box["summary"].done == expected and box["summary"].failed == 0
    check_outputs(out, expected)


@pytest.mark.broker
def test_redis_restart_mid_batch_loses_nothing(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    logs = tmp_path / "logs"
    logs.mkdir()
    pool = Workers(server.url, logs)
    try:
        pool.start(count=1, concurrency=2)
        source = tmp_path / "day.csv"
        expected, _ = write_batch(source, rows=30)
        out = tmp_path / "out"
        dispatcher = pool.dispatcher(stall_timeout=45)
        thread, box = in_background(run_batch, source, out, dispatcher, clinic_defaults())
        wait_for_done(out, 3)
        server.stop()
        time.sleep(2)
        server.start()  # a new, empty Redis: queued jobs and results are gone
        thread.join(timeout=400)
        assert not thread.is_alive(), "the batch hung after Redis restarted"
        assert "error" not in box, box.get("error")
        if box["summary"].failed:
            again = run_batch(source, out, dispatcher, clinic_defaults(), resume=True)
            assert again.failed == 0
        check_outputs(out, expected)
    finally:
        pool.stop()
        server.stop()


@pytest.mark.broker
def test_redis_gone_while_sending_is_an_outage_to_wait_out(tmp_path: Path) -> None:
    """Sending raises what the dispatcher waits out (BROKER_DOWN), not kombu's wrapper."""
    from worker import create_app

    server = RedisServer(tmp_path)
    server.start()
    try:
        source = tmp_path / "day.csv"
        write_batch(source, rows=12)
        jobs = plan(source, clinic_defaults()).jobs
        dispatcher = CeleryDispatcher(create_app(server.url), queue="nobody-listens")
        when = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
        messages = [[payload(job, tmp_path, when)] for job in jobs]
        dispatcher._send(messages[:1])  # connected, as in the middle of a batch
        commands = redis.Redis.from_url(server.url).info("commandstats")
        # Results are polled: sending subscribed to no result channel.
        assert "cmdstat_lpush" in commands and "cmdstat_subscribe" not in commands
        server.stop()
        with pytest.raises(BROKER_DOWN):
            dispatcher._send(messages)
    finally:
        server.stop()


EVIL_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'width="10" height="10"><image xlink:href="file:///etc/passwd" width="10" height="10"/></svg>'
)


@pytest.mark.broker
def test_render_failures_are_recorded_and_the_rest_completes(
    tmp_path: Path, shared_redis: str
) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "logo.svg").write_text(EVIL_SVG)  # passes validation, refused by the fetcher
    source = tmp_path / "day.csv"
    # 12 jobs: the first four (CSV rows 2 to 5) share a message, the bad row 4 among them.
    expected, _ = write_batch(source, rows=12, kinds_every=100)
    assert CeleryDispatcher.messages([str(n) for n in range(12)])[0] == ["0", "1", "2", "3"]
    rows = source.read_text().splitlines()
    rows = [rows[0] + ",clinic.logo"] + [
        row + ("," + "logo.svg" if n == 3 else ",") for n, row in enumerate(rows[1:], 1)
    ]
    source.write_text("\n".join(rows) + "\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    pool = Workers(shared_redis, logs, DN_DOCS_ASSETS_DIR=str(assets))
    try:
        pool.start(count=1)
        out = tmp_path / "out"
        summary = run_batch(
            source,
            out,
            pool.dispatcher(),
            clinic_defaults(),
        )
    finally:
        pool.stop()
    assert (summary.done, summary.failed) == (expected - 1, 1)
    failed = [e for e in manifest(out) if e["status"] != "done"]
    assert (
        len(failed) == 1 and failed[0]["row"] == 4 and "could not be loaded" in failed[0]["error"]
    )
    assert len(pdf_files(out)) == expected - 1
    report = list(csv.DictReader((out / "errors.csv").read_text().splitlines()))
    assert report == [
        {
            "row": "4",
            "kind": failed[0]["kind"],
            "column": "",
            "field": "render",
            "value": "",
            "reason": failed[0]["error"],
        }
    ]


@pytest.mark.broker
def test_render_time_limit_is_a_recorded_failure(tmp_path: Path, shared_redis: str) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    pool = Workers(shared_redis, logs, DN_DOCS_SOFT_TIME_LIMIT="0.01", DN_DOCS_TIME_LIMIT="30")
    try:
        pool.start(count=1)
        source = tmp_path / "day.csv"
        # The pool delivers the 10 ms soft limit late on a busy machine, and a warm
        # worker renders a document it already knows in about 100 ms. Long documents
        # in languages its warm-up did not lay out (200-500 ms each) leave a wide margin.
        expected, _ = write_batch(source, rows=2, kinds_every=100, locales=["ar", "zh_Hans"])
        long_documents = {"large_print": True, "bilingual": True, "language_assistance": True}
        out = tmp_path / "out"
        summary = run_batch(
            source,
            out,
            pool.dispatcher(),
            {**clinic_defaults(), "options": long_documents},
        )
        assert (summary.done, summary.failed) == (0, expected)
        assert all("time limit" in e["error"] for e in manifest(out))
    finally:
        pool.stop()


def test_warm_languages_keep_the_supported_ones(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from worker import warm_languages

    monkeypatch.setenv("DN_DOCS_WARM_LANGUAGES", " es,xx-YY,, ar ,es-MX,pt")
    with caplog.at_level(logging.WARNING, "dn_docs.worker"):
        assert warm_languages() == ("es", "ar", "pt_BR")
    assert [r.getMessage() for r in caplog.records] == [
        "DN_DOCS_WARM_LANGUAGES: 'xx-YY' is not a supported language; skipped"
    ]
    monkeypatch.delenv("DN_DOCS_WARM_LANGUAGES")
    assert warm_languages() == ("en",)


@pytest.mark.parametrize(("setting", "events"), [(None, False), ("0", False), ("1", True)])
def test_task_events_are_sent_only_when_asked_for(
    monkeypatch: pytest.MonkeyPatch, setting: str | None, events: bool
) -> None:
    from worker import create_app

    if setting is None:
        monkeypatch.delenv("DN_DOCS_TASK_EVENTS", raising=False)
    else:
        monkeypatch.setenv("DN_DOCS_TASK_EVENTS", setting)
    conf = create_app(SHARED_REDIS).conf
    assert conf.worker_send_task_events is events
    assert conf.task_send_sent_event is events
    assert conf.task_track_started is events


def test_message_limits_stay_below_the_visibility_timeout(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Four renders may each take their soft limit; the last gets the hard limit's margin."""
    from worker import create_app, message_limits

    for name in ("DN_DOCS_SOFT_TIME_LIMIT", "DN_DOCS_TIME_LIMIT", "DN_DOCS_VISIBILITY_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    conf = create_app(SHARED_REDIS).conf
    assert (conf.task_soft_time_limit, conf.task_time_limit) == (240, 270)
    assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]
    assert not caplog.records
    monkeypatch.setenv("DN_DOCS_SOFT_TIME_LIMIT", "10")
    monkeypatch.setenv("DN_DOCS_TIME_LIMIT", "25")
    assert message_limits() == (40, 55)
    # Limits a clinic raised past the visibility timeout are pointed out.
    monkeypatch.setenv("DN_DOCS_SOFT_TIME_LIMIT", "90")
    monkeypatch.setenv("DN_DOCS_TIME_LIMIT", "120")
    with caplog.at_level(logging.WARNING, "dn_docs.worker"):
        create_app(SHARED_REDIS)
    (warning,) = caplog.records
    assert "390 s" in warning.getMessage() and "(300 s)" in warning.getMessage()
