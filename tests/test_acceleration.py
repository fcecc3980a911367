"""The acceleration's containment: one lock, checked targets, a safe fallback.

Renders from threads, renders stopped by a time limit at any moment, a WeasyPrint
function whose signature changed, ``DN_DOCS_ACCELERATE=0``, and the start-up check's
self-test and missing-glyph probe.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import hashlib
import inspect
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import weasyprint
from helpers import Pdf, make_request

import dn_docs
from dn_docs import MissingGlyphError, RenderTimeoutError, parse_request
from dn_docs.compose import compose
from dn_docs.limits import time_limit
from dn_docs.pdf import WeasyPrintRenderer, accel, default_renderer
from dn_docs.pdf.accel import startup
from dn_docs.pdf.diagnostics import RenderLog

WHEN = dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC)
REPO = Path(__file__).resolve().parent.parent


def _requests(count: int) -> list[dict[str, Any]]:
    """``count`` different requests: languages, kinds, options and patients."""
    languages = ["en", "ar", "zh_Hans", "es", "hi", "he", "ko", "ru"]
    made = []
    for number in range(count):
        locale = languages[number % len(languages)]
        kind = "consent" if number % 3 else "aftercare"
        options = {"large_print": number % 4 == 1, "pdf_a": number % 5 != 2}
        patient = {"name": f"Quinn Example-{number}", "id": f"Q-{number:04d}"}
        made.append(make_request(locale, kind, patient=patient, options=options))
    return made


def _pdf(request: dict[str, Any], renderer: WeasyPrintRenderer | None = None) -> bytes:
    return dn_docs.render_document(request, renderer=renderer, generated_at=WHEN).pdf


def _untouched() -> None:
    """No render holds the lock, and WeasyPrint and pydyf are themselves."""
    assert accel.lock_is_free()
    for target in accel.TARGETS:
        assert target.unchanged(), target
    assert not logging.getLogger("weasyprint").filters


@pytest.fixture
def accelerated() -> WeasyPrintRenderer:
    renderer = default_renderer()
    state = accel.acceleration(renderer)
    assert state.on, state
    return renderer


# Threads ---------------------------------------------------------------------------


def test_renders_from_four_threads_are_the_renders_one_after_another(
    accelerated: WeasyPrintRenderer,
) -> None:
    requests = _requests(16)
    plain = WeasyPrintRenderer(reuse_layout=False)
    one_after_another = [_pdf(request, plain) for request in requests]
    # Warm renders from three threads and a plain one from a fourth, all at once.
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def render_every_fourth(first: int) -> None:
        try:
            start.wait()
            for number in range(first, len(requests), 4):
                renderer = plain if first == 3 else None
                results[number] = _pdf(requests[number], renderer)
        except BaseException as exc:
            errors.append(exc)

    accelerated_renders = accelerated.caches.renders
    threads = [threading.Thread(target=render_every_fourth, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    differ = [number for number, data in enumerate(one_after_another) if results[number] != data]
    assert differ == []
    # The three warm threads' renders were all accelerated.
    assert accelerated.caches.renders - accelerated_renders == 12
    _untouched()
    # Renders afterwards, warm and plain, are unchanged too.
    for number in (0, 5, 10):
        assert _pdf(requests[number]) == one_after_another[number]
        assert _pdf(requests[number], plain) == one_after_another[number]
    assert Pdf(results[7]).contains("Quinn Example-7")


def test_a_render_inside_a_render_is_refused_instead_of_waiting_for_itself() -> None:
    renderer = default_renderer()
    request = make_request("en")
    with pytest.raises(accel.NestedRenderError):
        accel.exclusively(lambda _: _pdf(request, renderer))
    _untouched()


# Time limits ------------------------------------------------------------------------


def test_a_render_stopped_by_its_time_limit_at_any_moment_leaves_nothing_behind(
    accelerated: WeasyPrintRenderer,
) -> None:
    request = make_request("ar", options={"large_print": True})
    handler = signal.getsignal(signal.SIGALRM)
    # Earlier tests' renderers: their finalizers must not be what a time limit stops.
    gc.collect()
    stopped = 0
    for step in range(24):
        seconds = 0.002 + 0.02 * step
        try:
            dn_docs.render_document(request, generated_at=WHEN, seconds=seconds)
        except RenderTimeoutError:
            stopped += 1
        _untouched()
        assert signal.getsignal(signal.SIGALRM) is handler
    assert stopped >= 5
    assert _pdf(request) == _pdf(request, WeasyPrintRenderer(reuse_layout=False))


class _Slow:
    """Something a render installs, slowly: a time limit expires meanwhile."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.installed = False

    def install(self) -> None:
        if self.where == "install":
            time.sleep(0.3)
        self.installed = True

    def remove(self) -> None:
        if self.where == "remove":
            time.sleep(0.3)
        self.installed = False


@pytest.mark.parametrize("where", ["install", "remove"])
def test_a_time_limit_that_expires_while_functions_change_hands_waits_for_the_change(
    where: str, accelerated: WeasyPrintRenderer
) -> None:
    slow = _Slow(where)
    replacements = [slow, *accelerated.caches.replacements]
    ran: list[bool] = []
    with pytest.raises(RenderTimeoutError), time_limit(0.1):
        accel.exclusively(ran.append, replacements)
    # Installed completely and then stopped, or stopped after everything was removed.
    assert ran == ([] if where == "install" else [True])
    assert not slow.installed
    _untouched()


def test_a_time_limit_stops_a_render_waiting_for_another_threads_render() -> None:
    holding = threading.Event()

    def hold_the_lock() -> None:
        accel.exclusively(lambda _: holding.set() or time.sleep(2.0))

    other = threading.Thread(target=hold_the_lock)
    other.start()
    holding.wait()
    started = time.monotonic()
    with pytest.raises(RenderTimeoutError):
        dn_docs.render_document(make_request("en"), seconds=0.2)
    assert time.monotonic() - started < 1.5
    assert not accel.lock_is_free()  # still the other thread's
    other.join()
    _untouched()


# Signatures and DN_DOCS_ACCELERATE ----------------------------------------------------

#: Renders the requests given as JSON in a new process, after ``{change}``; prints the
#: PDFs' hashes, what dn-docs logged and how much the warm renderer kept.
RENDER_ELSEWHERE = """
import datetime as dt, hashlib, json, logging, sys
import dn_docs

records = []
handler = logging.Handler()
handler.emit = records.append
logging.getLogger("dn_docs").addHandler(handler)
logging.getLogger("dn_docs").setLevel(logging.INFO)
{change}
from dn_docs.pdf import default_renderer
requests = json.loads(sys.argv[1])
when = dt.datetime.fromisoformat(sys.argv[2])
pdfs = [dn_docs.render_document(r, generated_at=when).pdf for r in requests]
caches = default_renderer().caches
print(json.dumps({{
    "sha256": [hashlib.sha256(pdf).hexdigest() for pdf in pdfs],
    "log": [(r.levelname, r.name, r.getMessage()) for r in records],
    "kept": len(list(caches.sections.kept)) + len(list(caches.lines.kept)),
}}))
"""

CHANGED_SIGNATURE = """
from weasyprint.layout import absolute

original = absolute.absolute_box_layout

def absolute_box_layout(context, box, containing_block, fixed_boxes, bottom_space,
                        skip_stack, new_argument=None):
    return original(context, box, containing_block, fixed_boxes, bottom_space, skip_stack)

# The same function, as far as its name goes, with one more argument.
absolute_box_layout.__module__ = original.__module__
absolute_box_layout.__qualname__ = original.__qualname__
absolute.absolute_box_layout = absolute_box_layout
"""


def _render_elsewhere(
    requests: list[dict[str, Any]], change: str = "", **environment: str
) -> dict[str, Any]:
    script = RENDER_ELSEWHERE.format(change=change)
    completed = subprocess.run(
        [sys.executable, "-c", script, json.dumps(requests), WHEN.isoformat()],
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return result


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_replaced_function_whose_signature_changed_means_plain_rendering(
    accelerated: WeasyPrintRenderer,
) -> None:
    requests = _requests(2)
    result = _render_elsewhere(requests, CHANGED_SIGNATURE)
    # One line says why, however many documents follow.
    ((level, logger, message),) = result["log"]
    assert (level, logger) == ("WARNING", "dn_docs.render")
    assert "acceleration off" in message and "signature" in message
    assert "weasyprint.layout.absolute.absolute_box_layout" in message
    assert "new_argument=None" in message
    assert result["kept"] == 0  # nothing was reused: rendered plainly
    plain = WeasyPrintRenderer(reuse_layout=False)
    assert result["sha256"] == [_sha256(_pdf(request, plain)) for request in requests]


def test_turned_off_by_the_environment_gives_the_same_bytes(
    accelerated: WeasyPrintRenderer,
) -> None:
    requests = _requests(6)
    warm = [_sha256(_pdf(request)) for request in requests]
    result = _render_elsewhere(requests, DN_DOCS_ACCELERATE="0")
    assert result["sha256"] == warm
    assert result["kept"] == 0
    ((level, logger, message),) = result["log"]
    assert (level, logger) == ("INFO", "dn_docs.render")
    assert "DN_DOCS_ACCELERATE=0" in message


def test_a_target_replaced_after_start_up_is_rendered_around(
    accelerated: WeasyPrintRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = make_request("es", patient={"name": "Replaced Later"})
    expected = _pdf(request, WeasyPrintRenderer(reuse_layout=False))
    original = weasyprint.layout.page.margin_box_content_layout
    calls: list[int] = []

    def counted(*arguments: Any) -> Any:
        calls.append(1)
        return original(*arguments)

    monkeypatch.setattr(weasyprint.layout.page, "margin_box_content_layout", counted)
    hits = accelerated.caches.sections.reuse.hits + accelerated.caches.sections.reuse.misses
    assert _pdf(request) == expected
    # Rendered plainly, through the function that is there now, and left in place.
    assert calls
    assert accelerated.caches.sections.reuse.hits + accelerated.caches.sections.reuse.misses == hits
    assert weasyprint.layout.page.margin_box_content_layout is counted


def test_every_target_is_what_the_acceleration_was_written_against() -> None:
    assert startup.compatibility_problem() is None
    assert startup.writer_is_compatible()
    replaced = {replacement.target for replacement in default_renderer().caches.replacements}
    assert len(replaced) == 15 and replaced <= set(accel.TARGETS)
    for target in accel.TARGETS:
        function = inspect.getattr_static(target.owner, target.name)
        function = function.fget if isinstance(function, property) else function
        assert str(inspect.signature(function)) == target.signature


def test_another_weasyprint_version_turns_the_acceleration_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    state = startup.check(default_renderer())
    assert not state.on
    assert "weasyprint 71.0 is installed, dn-docs was tested with 70.0" in state.reason
    assert not startup.writer_is_compatible.__wrapped__()


# The self-test -----------------------------------------------------------------------


class _SelfTestStub:
    """Renders both ways as told; the missing-glyph probe is the real one."""

    def __init__(self, differ_at: int | None = None) -> None:
        self.differ_at = differ_at
        self.rendered = 0

    def render_both_ways(self, request: dict[str, Any]) -> tuple[bytes, bytes]:
        self.rendered += 1
        return b"same", b"same" if self.rendered != self.differ_at else b"other"

    def missing_glyphs_reported(self, text: str) -> list[str]:
        return default_renderer().missing_glyphs_reported(text)


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DN_DOCS_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_the_self_test_verdict_is_kept_on_disk_for_the_same_installation(own_cache: Path) -> None:
    stub = _SelfTestStub()
    first = startup.check(stub)
    assert first.on and stub.rendered == len(startup.SELF_TEST)
    (verdict,) = own_cache.glob("acceleration-*.json")
    assert startup.verdict_key() in verdict.name
    again = startup.check(stub)
    assert again.on and stub.rendered == len(startup.SELF_TEST)  # read, not rendered
    assert startup.check(stub, trust_disk=False).on
    assert stub.rendered == 2 * len(startup.SELF_TEST)


def test_a_self_test_document_that_differs_turns_the_acceleration_off(own_cache: Path) -> None:
    state = startup.check(_SelfTestStub(differ_at=2))
    assert not state.on
    assert state.reason == "self-test: the en consent example 2 differs from a plain render"
    assert not startup.check(_SelfTestStub()).on  # the verdict was kept


def test_the_verdict_key_follows_the_templates(
    own_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "base.html").write_text("<p>one</p>")
    monkeypatch.setattr(startup.resources, "templates_dir", lambda: templates)
    before = startup.verdict_key()
    assert startup.verdict_key() == before
    (templates / "base.html").write_text("<p>one, changed</p>")
    assert startup.verdict_key() != before


# The missing-glyph diagnostics -----------------------------------------------------------


class _Reworded:
    """WeasyPrint's logger, as if a release worded its missing-glyph warning otherwise."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def warning(self, message: str, *arguments: Any) -> None:
        self._logger.warning(message.replace(".notdef glyph rendered", "No glyph"), *arguments)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)


def test_the_missing_glyph_probe_fires_and_notices_a_changed_warning(
    own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renderer = default_renderer()
    assert renderer.missing_glyphs_reported("A box: \ue000") == ["U+E000"]
    assert startup.check(_SelfTestStub(), trust_disk=False).on
    logger = weasyprint.draw.text.LOGGER
    monkeypatch.setattr(weasyprint.draw.text, "LOGGER", _Reworded(logger))
    assert renderer.missing_glyphs_reported("A box: \ue000") == []
    state = startup.check(_SelfTestStub(), trust_disk=False)
    assert not state.on
    assert "missing glyph (U+E000) was reported as nothing" in state.reason


@pytest.fixture
def quiet_weasyprint() -> Iterator[logging.Logger]:
    logger = logging.getLogger("weasyprint")
    saved = (logger.disabled, logger.level)
    logger.disabled, logger.level = True, logging.CRITICAL
    try:
        yield logger
    finally:
        logger.disabled, logger.level = saved


@pytest.mark.weasyprint_may_warn
def test_a_missing_glyph_is_caught_whatever_the_applications_logging_says(
    quiet_weasyprint: logging.Logger,
) -> None:
    composed = compose(parse_request(make_request("en")))
    broken = dataclasses.replace(composed, html=composed.html.replace("Jordan", "\ue000"))
    with pytest.raises(MissingGlyphError, match="U\\+E000"):
        default_renderer().render(broken)
    assert (quiet_weasyprint.disabled, quiet_weasyprint.level) == (True, logging.CRITICAL)
    _untouched()


@pytest.mark.weasyprint_may_warn
def test_a_render_log_keeps_only_its_own_threads_warnings() -> None:
    render_log = RenderLog()
    render_log.install()
    try:
        other = threading.Thread(
            target=logging.getLogger("weasyprint").warning,
            args=('.notdef glyph rendered for Unicode string unsupported by fonts: "%s"', "x"),
        )
        other.start()
        other.join()
        logging.getLogger("weasyprint").warning("Ignored `x` at 1:1, unknown property.")
    finally:
        render_log.remove()
    assert [record.getMessage()[:7] for record in render_log.records] == ["Ignored"]
