"""Drawn lines shared between documents.

To draw a line of text, WeasyPrint builds its Pango layout again, shapes the text
again and turns every glyph into PDF text operators: about a sixth of a warm render.
The same text in the same style always gives the same operators; only where the line
starts differs. So the warm renderer keeps the operators drawn for a line and, when
the same line is drawn again (in the next page's running header, or in the next
patient's document), writes them again at the new position.

The document's fonts learn which glyphs they need as lines are drawn: the width of
each glyph and the text it stands for, which the embedded font subsets and text
extraction use. A kept line carries its glyphs, so a reused line tells this
document's fonts exactly what drawing it afresh would have told them. A line is drawn
by WeasyPrint as usual when it has decorations (underline, line-through), an
ellipsis, emoji or a missing glyph, or uses a font this document has not met yet.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MethodType
from typing import Any

import weasyprint.draw
from weasyprint.draw import text as draw_text_module
from weasyprint.matrix import Matrix

from .generations import Generations, Reuse
from .linebreaks import font_config_serial, forget_styles, style_key
from .patching import swapped

#: Drawn lines are kept in two generations of at most this many, as broken lines are
#: (:mod:`.linebreaks`). A kept line is its operators and its glyphs, about 2.5 KiB
#: (measured over a clinic's week), so at most some 25 MiB are kept.
GENERATION_DRAWN_LINES = 5_000

DrawText = Callable[..., None]


@dataclass
class _Run:
    """Glyphs drawn in one font: each glyph's text the first time the line uses it."""

    font_key: Hashable
    glyphs: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _DrawnLine:
    # ("font", run index) | ("show", string) | ("size", font hash, size) | ("rise", value)
    operations: tuple[tuple[Any, ...], ...]
    runs: tuple[_Run, ...]
    font_config: int


reuse = Reuse()
kept: Generations[_DrawnLine] = Generations(GENERATION_DRAWN_LINES)
# (font configuration, font key) → glyph → width; a glyph's width in a font never changes.
_widths: dict[tuple[int, Hashable], dict[int, int]] = {}
_original_draw_text: DrawText = draw_text_module.draw_text
_original_first_line: Callable[..., list[Any]] = draw_text_module.draw_first_line


class _FontView:
    """A document's font as one line's drawing sees it: the glyphs start empty."""

    def __init__(self, font: Any) -> None:
        self._font = font
        self.widths: dict[int, int] = {}
        self.to_unicode: dict[int, str] = {}
        self.missing_glyph = False  # WeasyPrint logs each one, so it is drawn every time

    def get_unused_glyph_id(self, codepoint: int) -> int:
        self.missing_glyph = True
        return int(self._font.get_unused_glyph_id(codepoint))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._font, name)


class _Recorder:
    """Stands in for the page's stream while WeasyPrint draws one line."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.reusable = True
        self.operations: list[tuple[Any, ...]] = []
        self.views: list[tuple[Hashable, _FontView]] = []

    def add_font(self, pango_font: Any) -> tuple[Any, float]:
        font, size = self._stream.add_font(pango_font)
        key = next(key for key, known in self._stream._fonts.items() if known is font)
        view = _FontView(font)
        self.operations.append(("font", len(self.views)))
        self.views.append((key, view))
        return view, size

    def set_text_matrix(self, *values: float) -> None:
        self._stream.set_text_matrix(*values)

    def set_font_size(self, font: str, size: float) -> None:
        self.operations.append(("size", font, size))
        self._stream.set_font_size(font, size)

    def show_text(self, string: str) -> None:
        self.operations.append(("show", string))
        self._stream.show_text(string)

    def set_text_rise(self, value: float) -> None:
        self.operations.append(("rise", value))
        self._stream.set_text_rise(value)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._stream, name)
        if isinstance(value, MethodType):
            self.reusable = False  # an operator this module does not know how to repeat
        return value

    def finish(self) -> list[_Run]:
        """Give the glyphs this line used to the document's fonts; return them."""
        runs = []
        for key, view in self.views:
            font = view._font
            for glyph, width in view.widths.items():
                font.widths.setdefault(glyph, width)
            for glyph, text in view.to_unicode.items():
                font.to_unicode.setdefault(glyph, text)
            runs.append(_Run(key, dict(view.to_unicode)))
        return runs


def _drawable_again(textbox: Any, text_overflow: str, block_ellipsis: str) -> bool:
    style = textbox.style
    return (
        style["visibility"] == "visible"
        and style["text_decoration_line"] == "none"
        and text_overflow == "clip"
        and block_ellipsis == "none"
    )


def _key(textbox: Any) -> Hashable:
    layout = textbox.pango_layout
    return (textbox.text, layout.text, style_key(textbox.style), layout.justification_spacing)


def _replay(stream: Any, textbox: Any, line: _DrawnLine) -> bool:
    fonts = [stream._fonts.get(run.font_key) for run in line.runs]
    if None in fonts:
        return False
    x, y = textbox.position_x, textbox.position_y + textbox.baseline
    stream.set_color(textbox.style["color"])
    stream.begin_text()
    if line.operations or line.runs:
        stream.set_text_matrix(*Matrix(d=-1, e=x, f=y).values)
    for operation in line.operations:
        kind = operation[0]
        if kind == "show":
            stream.show_text(operation[1])
        elif kind == "size":
            stream.set_font_size(operation[1], operation[2])
        elif kind == "rise":
            stream.set_text_rise(operation[1])
        else:
            run, font = line.runs[operation[1]], fonts[operation[1]]
            # In the order the glyphs first appear, as drawing would add them: the
            # font's tables are written in that order.
            widths = _widths[line.font_config, run.font_key]
            for glyph, text in run.glyphs.items():
                if glyph not in font.to_unicode:
                    font.to_unicode[glyph] = text
                if glyph not in font.widths:
                    font.widths[glyph] = widths[glyph]
    stream.end_text()
    return True


def _shared_draw_text(
    stream: Any,
    textbox: Any,
    offset_x: float,
    text_overflow: str = "clip",
    block_ellipsis: str = "none",
) -> None:
    if not _drawable_again(textbox, text_overflow, block_ellipsis):
        _original_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
        return
    key = _key(textbox)
    line = kept.get(key)
    if line is not None and _replay(stream, textbox, line):
        reuse.hits += 1
        return
    reuse.misses += 1
    recorders: list[_Recorder] = []

    def recording_first_line(stream: Any, *args: Any) -> list[Any]:
        recorder = _Recorder(stream)
        recorders.append(recorder)
        emojis = _original_first_line(recorder, *args)
        if emojis:
            recorder.reusable = False
        return emojis

    with swapped(draw_text_module, "draw_first_line", recording_first_line):
        _original_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
    if not recorders:  # invisible or empty: WeasyPrint drew nothing
        return
    recorder = recorders[0]
    runs = recorder.finish()
    if not recorder.reusable or any(view.missing_glyph for _, view in recorder.views):
        return
    serial = font_config_serial(textbox.style.font_config)
    for run, (_, view) in zip(runs, recorder.views, strict=True):
        _widths.setdefault((serial, run.font_key), {}).update(view.widths)
    kept.put(key, _DrawnLine(tuple(recorder.operations), tuple(runs), serial))


@contextmanager
def shared_drawing() -> Iterator[None]:
    """Reuse drawn lines inside this block (one document's write; not thread-safe)."""
    try:
        with swapped(weasyprint.draw, "draw_text", _shared_draw_text):
            yield
    finally:
        forget_styles()
