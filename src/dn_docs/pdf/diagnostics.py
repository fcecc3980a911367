"""WeasyPrint's log as a signal: every record it emits during a render is collected.

A missing glyph would print a box where a patient expects a word, and a failed
fetch would silently drop part of the page, so both make the render fail.
Anything else is passed on as a warning of ``dn_docs.render`` for operators.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import MissingGlyphError, RenderError

WEASYPRINT_LOGGER = logging.getLogger("weasyprint")
log = logging.getLogger("dn_docs.render")

_MISSING_GLYPH = ".notdef glyph rendered"
_FAILED_LOAD = ("Failed to load", "Failed to render")


class LogCollector(logging.Handler):
    """Keeps every record of WARNING or above that reaches it."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def watched_render() -> Iterator[list[logging.LogRecord]]:
    """Collect WeasyPrint's warnings during one render and raise on the fatal ones."""
    collector = LogCollector()
    WEASYPRINT_LOGGER.addHandler(collector)
    try:
        yield collector.records
    finally:
        WEASYPRINT_LOGGER.removeHandler(collector)
    missing = sorted({code for r in collector.records if (code := _missing_codepoint(r))})
    if missing:
        raise MissingGlyphError(
            "no installed font has a glyph for "
            + ", ".join(missing)
            + "; install the fonts the set-up script lists"
        )
    for record in collector.records:
        message = record.getMessage()
        if message.startswith(_FAILED_LOAD):
            # The message would carry the resource's URL or data; say what failed instead.
            raise RenderError(
                "an image or stylesheet could not be loaded (only dn-docs' own assets and a "
                "self-contained clinic logo are allowed)"
            )
    for record in collector.records:
        log.warning("renderer: %s", record.getMessage()[:200])


def _missing_codepoint(record: logging.LogRecord) -> str | None:
    args = record.args
    if str(record.msg).startswith(_MISSING_GLYPH) and isinstance(args, tuple) and args:
        return f"U+{ord(str(args[0])[:1] or '?'):04X}"
    return None
