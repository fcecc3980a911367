"""WeasyPrint's log as a signal: every record one render makes is collected.

A missing glyph would print a box where a patient expects a word, and a failed fetch
would silently drop part of the page, so both make the render fail. Anything else is
passed on as a warning of ``dn_docs.render`` for operators.

A :class:`RenderLog` belongs to one render: the renderer installs it on WeasyPrint's
logger while it holds the render lock (see :mod:`.accel.adapter`), and it keeps only the
records made by the rendering thread. While it is installed, WeasyPrint's warnings reach
it even if an application's logging set-up turned that logger off or raised its level
(both are put back afterwards).

Missing glyphs are recognised by the wording of WeasyPrint's warning. The start-up
check (:mod:`.accel.startup`) renders a character no font has and proves that the
warning still comes and is still recognised.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import MissingGlyphError, RenderError

WEASYPRINT_LOGGER = logging.getLogger("weasyprint")
log = logging.getLogger("dn_docs.render")

_MISSING_GLYPH = ".notdef glyph rendered"
_FAILED_LOAD = ("Failed to load", "Failed to render")
#: A character that no font dn-docs installs has a glyph for (a private-use code point).
UNPRINTABLE = "\ue000"


class LogCollector(logging.Handler):
    """Keeps every record of WARNING or above that reaches it."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class RenderLog(logging.Filter):
    """WeasyPrint's warnings during one render, made by the thread that installed it.

    A filter of WeasyPrint's logger, so it sees every record before any handler does,
    whatever the handlers' levels. A ``quiet`` one keeps the records it collects from
    the handlers (the start-up check's deliberate missing glyph is nobody's concern).
    """

    def __init__(self, quiet: bool = False) -> None:
        super().__init__()
        self.quiet = quiet
        self.records: list[logging.LogRecord] = []
        self._thread = 0
        self._saved: tuple[bool, int] = (False, logging.NOTSET)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self._thread or record.levelno < logging.WARNING:
            return True
        self.records.append(record)
        return not self.quiet

    def install(self) -> None:
        self._thread = threading.get_ident()
        logger = WEASYPRINT_LOGGER
        self._saved = (logger.disabled, logger.level)
        logger.disabled = False
        if logger.getEffectiveLevel() > logging.WARNING:
            logger.setLevel(logging.WARNING)
        logger.addFilter(self)

    def remove(self) -> None:
        logger = WEASYPRINT_LOGGER
        logger.removeFilter(self)
        logger.disabled, level = self._saved
        if logger.level != level:
            logger.setLevel(level)

    def raise_problems(self) -> None:
        """Raise for a missing glyph or a failed load; pass other warnings on."""
        missing = missing_codepoints(self.records)
        if missing:
            raise MissingGlyphError(
                "no installed font has a glyph for "
                + ", ".join(missing)
                + "; install the fonts the set-up script lists"
            )
        for record in self.records:
            if record.getMessage().startswith(_FAILED_LOAD):
                # The message would carry the resource's URL or data; say what failed instead.
                raise RenderError(
                    "an image or stylesheet could not be loaded (only dn-docs' own assets and "
                    "a self-contained clinic logo are allowed)"
                )
        for record in self.records:
            log.warning("renderer: %s", record.getMessage()[:200])


@contextmanager
def watched_render() -> Iterator[list[logging.LogRecord]]:
    """Collect WeasyPrint's warnings in this block and raise on the fatal ones.

    For a WeasyPrint call outside the renderer; the renderer installs its
    :class:`RenderLog` under the render lock itself.
    """
    collector = RenderLog()
    collector.install()
    try:
        yield collector.records
    finally:
        collector.remove()
    collector.raise_problems()


def missing_codepoints(records: list[logging.LogRecord]) -> list[str]:
    """``U+XXXX`` of every character WeasyPrint drew as a box, from its warnings."""
    return sorted({code for record in records if (code := _missing_codepoint(record))})


def _missing_codepoint(record: logging.LogRecord) -> str | None:
    args = record.args
    if str(record.msg).startswith(_MISSING_GLYPH) and isinstance(args, tuple) and args:
        return f"U+{ord(str(args[0])[:1] or '?'):04X}"
    return None
