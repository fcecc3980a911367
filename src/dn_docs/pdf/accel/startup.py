"""Whether this process may use the acceleration: checked once, on first use.

The acceleration stands in for private WeasyPrint and pydyf functions, so it is only
used with what it was written and tested against:

1. ``DN_DOCS_ACCELERATE=0`` turns it off.
2. The installed WeasyPrint and pydyf are exactly the versions in :data:`TESTED`.
3. Every target (see :mod:`.adapter`) holds the function it was written against, with
   the expected signature.
4. The self-test renders the examples in :data:`SELF_TEST` both ways, accelerated (in
   this order, so the later ones reuse what the earlier ones kept) and from scratch,
   and the bytes are the same. It also renders a character no font has and checks
   that the renderer's log diagnostics still report it as a missing glyph.

If anything fails, every document is rendered from scratch (the same PDFs, more
slowly; with another pydyf, written by pydyf itself) and one log line of
``dn_docs.render`` says why.

Steps 1 to 3 run in every process. The self-test costs five documents rendered twice,
a few seconds: more than a whole cold ``dn-docs render`` (1.6 s on the benchmark
machine), and in every worker's warm-up it would delay each start of a Celery worker
process or of a batch's local pool. Its verdict depends only on what went into it: the
code of dn-docs, the versions of WeasyPrint's stack and Pango, the templates, catalogs
and bundled fonts, and the installed fonts. So the verdict is kept on disk (in
``DN_DOCS_CACHE_DIR``, by default ``~/.cache/dn-docs``) under a key made of all of
those (file sizes and modification times stand for their contents, as fontconfig does
for its own cache). The first process after an install, an upgrade or a change of
fonts or templates runs the self-test, wherever it renders first (a worker's warm-up,
a service's first request, ``dn-docs doctor``); every other process only works out the
key and reads a few hundred bytes: with steps 1 to 3, about 10 to 15 ms of a cold
``dn-docs render`` (measured on a busy 2-core machine). ``dn-docs doctor`` always runs
the self-test afresh. When the cache folder cannot be written, every process runs it.

The writer's own work in WeasyPrint's write pass (see :mod:`dn_docs.pdf.embed`) follows
pydyf's internals too. It is part of every document, accelerated or not, so it needs
only steps 2 and 3 for its own targets; without them pydyf writes the file itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import platform
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import pydyf
import weasyprint

from ... import resources
from ..diagnostics import UNPRINTABLE
from .adapter import Target
from .caches import TARGETS

log = logging.getLogger("dn_docs.render")

ENVIRONMENT = "DN_DOCS_ACCELERATE"
#: The versions the acceleration and the writer were written against and tested with.
TESTED = {"weasyprint": "70.0", "pydyf": "0.13.0"}
#: (locale, kind, example number, options) of the examples the self-test renders, in
#: order: a second patient's consent after the first reuses sections, lines, cells,
#: drawn lines and subsets; then right to left with a left-to-right translation, large
#: print, and CJK with the compact fonts.
SELF_TEST: tuple[tuple[str, str, int, dict[str, bool]], ...] = (
    ("en", "consent", 1, {}),
    ("en", "consent", 2, {}),
    ("en", "aftercare", 3, {"large_print": True}),
    ("ar", "consent", 4, {"bilingual": True}),
    ("zh_Hans", "aftercare", 5, {"pdf_a": False}),
)
_VERDICT_FORMAT = "dn-docs acceleration verdict 1"


class SelfTestRenderer(Protocol):
    """What the self-test needs of a renderer."""

    def render_both_ways(self, request: dict[str, Any]) -> tuple[bytes, bytes]:
        """The PDF of ``request`` accelerated, and rendered from scratch."""
        ...

    def missing_glyphs_reported(self, text: str) -> list[str]:
        """What the log diagnostics report for a plain render of ``text``."""
        ...


@dataclass(frozen=True)
class Acceleration:
    """Whether the acceleration is on in this process, and why (not)."""

    on: bool
    reason: str
    #: Off only because DN_DOCS_ACCELERATE=0 asked for it.
    by_choice: bool = False

    def __str__(self) -> str:
        return f"{'on' if self.on else 'off'}: {self.reason}"


def versions_problem() -> str | None:
    """How the installed WeasyPrint and pydyf differ from the tested ones; None if they don't."""
    found = {"weasyprint": weasyprint.__version__, "pydyf": pydyf.__version__}
    different = [
        f"{name} {found[name]} is installed, dn-docs was tested with {version}"
        for name, version in TESTED.items()
        if found[name] != version
    ]
    return "; ".join(different) or None


def targets_problem(targets: Sequence[Target]) -> str | None:
    """The first target that is not what it was written against; None if all are."""
    return next((problem for target in targets if (problem := target.problem())), None)


def compatibility_problem(targets: Sequence[Target] = TARGETS) -> str | None:
    """Steps 2 and 3 for ``targets``."""
    return versions_problem() or targets_problem(targets)


@cache
def writer_is_compatible() -> bool:
    """Whether the writer may do its own work in pydyf's write pass (steps 2 and 3)."""
    from ..embed import WRITER_TARGETS

    return compatibility_problem(WRITER_TARGETS) is None


def check(renderer: SelfTestRenderer, trust_disk: bool = True) -> Acceleration:
    """Steps 1 to 4; the self-test's verdict is read from disk when ``trust_disk``."""
    if os.environ.get(ENVIRONMENT, "1").strip() == "0":
        return Acceleration(False, f"turned off by {ENVIRONMENT}=0", by_choice=True)
    problem = compatibility_problem()
    if problem:
        return Acceleration(False, problem)
    path = _verdict_path()
    if trust_disk and path is not None and (known := _read_verdict(path)) is not None:
        return known
    verdict, definite = _self_test(renderer)
    if definite and path is not None:
        _write_verdict(path, verdict)
    return verdict


_state: list[Acceleration] = []
_state_lock = threading.Lock()


def acceleration(renderer: SelfTestRenderer) -> Acceleration:
    """This process's answer, worked out on first use (with ``renderer`` for the
    self-test) and logged in one line when the acceleration is off."""
    if _state:
        return _state[0]
    with _state_lock:
        if not _state:
            state = check(renderer)
            if not state.on:
                level = logging.INFO if state.by_choice else logging.WARNING
                log.log(
                    level,
                    "acceleration off: %s; every document is rendered from scratch",
                    state.reason,
                )
            _state.append(state)
    return _state[0]


def forget() -> None:
    """Work the answer out again on next use (for tests)."""
    with _state_lock:
        _state.clear()


def _self_test(renderer: SelfTestRenderer) -> tuple[Acceleration, bool]:
    """The verdict, and whether it is definite (an error is not: it may be passing)."""
    from ...examples import example_request

    try:
        for locale, kind, number, options in SELF_TEST:
            request = example_request(locale, kind, number)
            request["options"] = {**request["options"], **options}
            if options.get("bilingual"):
                request["clinic"]["language"] = "en"
            accelerated, from_scratch = renderer.render_both_ways(request)
            if accelerated != from_scratch:
                what = f"the {locale} {kind} example {number}"
                return Acceleration(False, f"self-test: {what} differs from a plain render"), True
        reported = renderer.missing_glyphs_reported(f"Missing glyph probe: {UNPRINTABLE}")
    except Exception as exc:  # the acceleration itself may be what fails
        return Acceleration(False, f"self-test failed: {type(exc).__name__}: {exc}"), False
    expected = f"U+{ord(UNPRINTABLE):04X}"
    if reported != [expected]:
        return Acceleration(
            False,
            f"self-test: a missing glyph ({expected}) was reported as {reported or 'nothing'}; "
            "WeasyPrint's warning for it changed",
        ), True
    documents = len(SELF_TEST)
    return Acceleration(
        True, f"verified: {documents} examples identical to a render from scratch"
    ), True


def _read_verdict(path: Path) -> Acceleration | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != _VERDICT_FORMAT:
        return None
    on, reason = data.get("on"), data.get("reason")
    if not isinstance(on, bool) or not isinstance(reason, str):
        return None
    return Acceleration(on, f"{reason} (self-test of {data.get('checked', '?')})")


def _write_verdict(path: Path, verdict: Acceleration) -> None:
    data = {
        "format": _VERDICT_FORMAT,
        "on": verdict.on,
        "reason": verdict.reason,
        "checked": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        return  # every process runs the self-test, then


def cache_dir() -> Path:
    """Where the self-test's verdicts are kept."""
    if folder := os.environ.get("DN_DOCS_CACHE_DIR"):
        return Path(folder)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dn-docs"


def _verdict_path() -> Path | None:
    try:
        return cache_dir() / f"acceleration-{verdict_key()}.json"
    except (OSError, RuntimeError):  # no home folder
        return None


def verdict_key() -> str:
    """What the self-test's verdict depends on, as a hash."""
    digest = hashlib.sha256(_VERDICT_FORMAT.encode())
    for part in _key_parts():
        digest.update(repr(part).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


def _key_parts() -> Iterator[object]:
    from weasyprint.text import ffi

    yield sys.version, platform.machine()
    for name in ("weasyprint", "pydyf", "tinyhtml5", "tinycss2", "cssselect2", "fontTools"):
        module = sys.modules.get(name)
        yield name, getattr(module, "__version__", getattr(module, "version", None))
    yield "pango", ffi.pango.pango_version()
    for variable in ("DN_DOCS_HOME", "FONTCONFIG_FILE", "FONTCONFIG_PATH"):
        yield variable, os.environ.get(variable)
    # dn-docs' PDF stage and what it renders: its code, templates, catalogs, bundled fonts.
    package = Path(__file__).resolve().parents[2]
    yield from _files(package, ".py")
    yield from _files(resources.templates_dir())
    yield from _files(resources.locales_dir(), ".mo")
    # The installed fonts: fontconfig's configuration and its font folders.
    yield from _files(Path("/etc/fonts"))
    for folder in _font_folders():
        yield from _folders(folder)


def _font_folders() -> list[Path]:
    home = Path.home()
    return [
        Path("/usr/share/fonts"),
        Path("/usr/local/share/fonts"),
        home / ".local" / "share" / "fonts",
        home / ".fonts",
    ]


def _files(folder: Path, suffix: str = "") -> Iterator[tuple[str, int, int]]:
    """Each file below ``folder`` whose name ends in ``suffix``: its size and modification time."""
    for root, folders, _ in os.walk(folder):
        folders[:] = sorted(name for name in folders if name != "__pycache__")
        with os.scandir(root) as entries:
            for entry in sorted(entries, key=lambda entry: entry.name):
                if entry.name.endswith(suffix) and entry.is_file():
                    stat = entry.stat()
                    yield entry.path, stat.st_size, stat.st_mtime_ns


def _folders(folder: Path) -> Iterator[tuple[str, int]]:
    """Each folder below ``folder`` and when its list of files last changed."""
    for root, folders, _ in os.walk(folder):
        folders.sort()
        yield root, Path(root).stat().st_mtime_ns
