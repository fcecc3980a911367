"""Drawn lines shared between documents.

To draw a line of text, WeasyPrint builds its Pango layout again, shapes the text
again and turns every glyph into PDF text operators: about a sixth of a warm render.
The same text in the same style always gives the same operators; only where the line
starts differs. So the warm renderer keeps the operators drawn for a line and, when
the same line is drawn again (in the next page's running header, or in the next
patient's document), writes them again at the new position.

The document's fonts learn which glyphs they need as lines are drawn: the width of
each glyph and the text it stands for, which the embedded font subsets (the PDF's
``/W`` table) and text extraction use. A glyph's width is worked out once per
document, at the size of the first line that draws it, and is rounded to a thousandth
of an em: at another size the same glyph can come out a thousandth wider or narrower.
Drawing also uses the width the document's font already has for a glyph to space the
glyphs that follow. So a kept line carries, for each of its glyphs, its text, the
width its operators were made with, and the width the line itself works out for it
(the same, unless the width came from the document's font and the line's size rounds
differently). It is written again only into a document whose fonts would give its
glyphs the same widths: each glyph's width there is the one the line used, or the
glyph is new to the document and the line's own width is the one it used. Then it
tells the document's fonts exactly what drawing it afresh would have told them.

A line is drawn by WeasyPrint as usual when it has decorations (underline,
line-through), an ellipsis, emoji or a missing glyph, or uses a font this document has
not met yet, or when a glyph's width there differs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from types import MethodType
from typing import Any

import weasyprint.draw
from weasyprint.draw import text as draw_text_module
from weasyprint.matrix import Matrix
from weasyprint.text.ffi import FROM_UNITS, pango

from .adapter import Replacement, Target
from .generations import Generations, Reuse
from .linebreaks import StyleKeys

#: Drawn lines are kept in two generations of at most this many, as broken lines are
#: (:mod:`.linebreaks`). A kept line is its operators and its glyphs, about 2.5 KiB
#: (measured over a clinic's week), so at most some 25 MiB are kept.
GENERATION_DRAWN_LINES = 5_000
#: A newly drawn line waits among at most this many until a later document draws it too;
#: the lines holding the patient's name, repeated on every page, never are.
TRIAL_DRAWN_LINES = 1_250

DRAW_TEXT = Target(
    weasyprint.draw,
    "draw_text",
    "weasyprint.draw.text.draw_text",
    "(stream, textbox, offset_x, text_overflow, block_ellipsis)",
)
DRAW_FIRST_LINE = Target(
    draw_text_module,
    "draw_first_line",
    "weasyprint.draw.text.draw_first_line",
    "(stream, textbox, text_overflow, block_ellipsis, matrix)",
)


#: Whether drawing sizes glyphs at the Pango font's own size (Pango 1.48.2 and later);
#: asked once, not for every glyph.
_PANGO_SIZES_GLYPHS = pango.pango_version() >= 14802


@dataclass(frozen=True)
class _Run:
    """Glyphs drawn in one font, in the order the line first draws them."""

    font_key: Hashable
    texts: dict[int, str]  # what each glyph stands for, the first time the line draws it
    widths: dict[int, int]  # in thousandths of an em, as the line's operators used them
    #: Glyphs drawn with a width taken from the document's font that is not the one this
    #: line works out (or that could not be worked out): new to a document, such a glyph
    #: would be drawn with another width.
    not_own: frozenset[int]


@dataclass(frozen=True)
class _DrawnLine:
    # ("font", run index) | ("show", string) | ("size", font hash, size) | ("rise", value)
    operations: tuple[tuple[Any, ...], ...]
    runs: tuple[_Run, ...]


class _Widths(dict[int, int]):
    """A line's view of a font's glyph widths: its own, then the document font's.

    Drawing reads a width the document's font has, as it would from the font itself;
    what it works out is the line's own, given to the font when the line is done.
    """

    def __init__(self, document: dict[int, int], own_width: Callable[[int], int | None]) -> None:
        super().__init__()
        self.document = document
        self.own_width = own_width
        self.used: dict[int, int] = {}  # read from the document's font
        self.differing: set[int] = set()  # of those, not what the line works out

    def __contains__(self, glyph: object) -> bool:
        return dict.__contains__(self, glyph) or glyph in self.document

    def __getitem__(self, glyph: int) -> int:
        if dict.__contains__(self, glyph):
            return dict.__getitem__(self, glyph)
        width = self.document[glyph]
        if glyph not in self.used:
            self.used[glyph] = width
            if self.own_width(glyph) != width:
                self.differing.add(glyph)
        return width


class _FontView:
    """A document's font as one line's drawing sees it (see :class:`_Widths`)."""

    def __init__(self, font: Any, pango_font: Any, size: float, stream: Any) -> None:
        self._font = font
        self._pango_font = pango_font
        self._size = size
        self._stream = stream
        self.widths = _Widths(font.widths, self._own_width)
        self.to_unicode: dict[int, str] = {}  # every glyph of the line, in order
        self.missing_glyph = False  # WeasyPrint logs each one, so it is drawn every time

    def get_unused_glyph_id(self, codepoint: int) -> int:
        self.missing_glyph = True
        return int(self._font.get_unused_glyph_id(codepoint))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._font, name)

    def _own_width(self, glyph: int) -> int | None:
        """The width drawing works out for a glyph new to the document's font, as
        ``weasyprint.draw.text.draw_first_line`` does; None where it would use another
        size (bitmap fonts, and Pango before 1.48.2)."""
        if self._font.png or not _PANGO_SIZES_GLYPHS:
            return None
        rect = self._stream.logical_rect
        pango.pango_font_get_glyph_extents(self._pango_font, glyph, self._stream.ink_rect, rect)
        width: int = round(rect.width * 1000 * FROM_UNITS / self._size)
        return width

    def run(self, font_key: Hashable) -> _Run:
        """What the line drew in this font."""
        widths = {**self.widths.used, **self.widths}
        return _Run(font_key, dict(self.to_unicode), widths, frozenset(self.widths.differing))


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
        view = _FontView(font, pango_font, size, self._stream)
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
            runs.append(view.run(key))
        return runs


def _drawable_again(textbox: Any, text_overflow: str, block_ellipsis: str) -> bool:
    style = textbox.style
    return (
        style["visibility"] == "visible"
        and style["text_decoration_line"] == "none"
        and text_overflow == "clip"
        and block_ellipsis == "none"
    )


def _same_widths(run: _Run, font: Any) -> bool:
    """Whether drawing the run's glyphs in ``font`` afresh would use the widths it used."""
    widths = font.widths
    for glyph, used in run.widths.items():
        width = widths.get(glyph)
        if (width is None and glyph in run.not_own) or (width is not None and width != used):
            return False
    return True


def _replay(stream: Any, textbox: Any, line: _DrawnLine) -> bool:
    fonts = [stream._fonts.get(run.font_key) for run in line.runs]
    if None in fonts or not all(map(_same_widths, line.runs, fonts)):
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
            for glyph, text in run.texts.items():
                if glyph not in font.to_unicode:
                    font.to_unicode[glyph] = text
                if glyph not in font.widths:
                    font.widths[glyph] = run.widths[glyph]
    stream.end_text()
    return True


class SharedDrawing:
    """Drawn lines kept between documents."""

    def __init__(self, style_keys: StyleKeys) -> None:
        self.style_keys = style_keys
        self.reuse = Reuse()
        self.kept: Generations[_DrawnLine] = Generations(GENERATION_DRAWN_LINES, TRIAL_DRAWN_LINES)
        # While a line is drawn afresh to be kept: the recorders of its first lines.
        self._recorders: list[_Recorder] | None = None
        self.replacements = (
            Replacement(DRAW_TEXT, self.draw_text),
            Replacement(DRAW_FIRST_LINE, self.draw_first_line),
        )

    def _key(self, textbox: Any) -> Hashable:
        layout = textbox.pango_layout
        return (
            textbox.text,
            layout.text,
            self.style_keys.key(textbox.style),
            layout.justification_spacing,
        )

    def draw_text(
        self, stream: Any, textbox: Any, offset_x: float, text_overflow: str, block_ellipsis: str
    ) -> None:
        draw_text = DRAW_TEXT.original
        if not _drawable_again(textbox, text_overflow, block_ellipsis):
            draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
            return
        key = self._key(textbox)
        line = self.kept.get(key)
        if line is not None and _replay(stream, textbox, line):
            self.reuse.hits += 1
            return
        self.reuse.misses += 1
        recorders = self._recorders = []
        try:
            draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
        finally:
            self._recorders = None
        if not recorders:  # invisible or empty: WeasyPrint drew nothing
            return
        recorder = recorders[0]
        runs = recorder.finish()
        if not recorder.reusable or any(view.missing_glyph for _, view in recorder.views):
            return
        # A line whose widths are all its own can be written again wherever its glyphs
        # are new; one that took from this document's fonts a width other than its own
        # only where the fonts have that width. So the first never gives way to the
        # second.
        if line is None or not any(run.not_own for run in runs):
            self.kept.put(key, _DrawnLine(tuple(recorder.operations), tuple(runs)))

    def draw_first_line(self, stream: Any, *arguments: Any) -> list[Any]:
        recorders = self._recorders
        if recorders is None:  # not a line drawn to be kept (or an SVG's text)
            emojis: list[Any] = DRAW_FIRST_LINE.original(stream, *arguments)
            return emojis
        recorder = _Recorder(stream)
        recorders.append(recorder)
        emojis = DRAW_FIRST_LINE.original(recorder, *arguments)
        if emojis:
            recorder.reusable = False
        return emojis
