"""Line breaking shared between documents.

Most of a document's text is the catalog's, the same for every patient in a
language. WeasyPrint shapes each line with Pango, and that is a large share of
its layout time. The same text, in the same font, at the same width, always breaks
the same way. So the warm renderer keeps each result of WeasyPrint's
``split_first_line`` and reuses it, in the next page's running header or in the
next patient's document.

A returned line holds no Pango objects any more (WeasyPrint ``deactivate``s it), only
its text and metrics; drawing rebuilds the Pango layout from them. Drawing also
updates a few of those attributes (the line's resolved direction, the text of a
justified lone space), so each use gets its own shallow copy of the line as it was
first broken.
"""

from __future__ import annotations

import copy
import itertools
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from weasyprint.layout import inline, preferred
from weasyprint.text import line_break

from .generations import Generations, Reuse
from .patching import swapped

#: Every property that ``split_first_line`` (through Pango's layout set-up, the line
#: metrics and hyphenation) reads from the text's style. WeasyPrint's computed values
#: are immutable (strings, numbers, tuples), so they make a key as they are.
STYLE_PROPERTIES = (
    "direction",
    "font_family",
    "font_feature_settings",
    "font_kerning",
    "font_language_override",
    "font_size",
    "font_stretch",
    "font_style",
    "font_variant_alternates",
    "font_variant_caps",
    "font_variant_east_asian",
    "font_variant_ligatures",
    "font_variant_numeric",
    "font_variant_position",
    "font_variation_settings",
    "font_weight",
    "hyphenate_character",
    "hyphenate_limit_chars",
    "hyphenate_limit_zone",
    "hyphens",
    "lang",
    "letter_spacing",
    "line_height",
    "overflow_wrap",
    "tab_size",
    "text_decoration_line",
    "white_space",
    "word_break",
    "word_spacing",
)

#: Lines are kept in two generations of at most this many. When the newer one is full
#: the older one is dropped, keeping only the lines used again meanwhile: the catalog's
#: text stays, and the lines that carry one patient's details (some 40 of a consent's
#: 300) go. A worker's memory stays flat, at most about 16 MiB for the lines.
GENERATION_LINES = 5_000

SplitFirstLine = Callable[..., tuple[Any, ...]]


reuse = Reuse()
kept: Generations[tuple[Any, ...]] = Generations(GENERATION_LINES)
_original: SplitFirstLine = line_break.split_first_line
# A render asks about the same few hundred styles thousands of times; the style is
# kept with its key so its id cannot be reused until forget_styles().
_style_keys: dict[int, tuple[Any, Hashable]] = {}
# Equal style keys of different renders are stored once.
_interned: dict[Hashable, Hashable] = {}
# Fonts differ between font configurations. An id() could be reused once one is
# collected, so each configuration gets its own serial number instead.
_font_configs: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_serials = itertools.count()


def font_config_serial(font_config: Any) -> int:
    """A number for ``font_config`` that no other configuration gets while it lives."""
    serial = _font_configs.get(font_config)
    if serial is None:
        serial = _font_configs[font_config] = next(_serials)
    return serial


def style_key(style: Any) -> Hashable:
    """What line breaking and drawing read from ``style``, as a hashable key."""
    kept = _style_keys.get(id(style))
    if kept is None:
        key = (
            font_config_serial(style.font_config),
            *(style[name] for name in STYLE_PROPERTIES),
        )
        kept = _style_keys[id(style)] = (style, _interned.setdefault(key, key))
    return kept[1]


def _shared_split_first_line(
    text: str,
    style: Any,
    context: Any,
    max_width: float | None,
    justification_spacing: float,
    is_line_start: bool = True,
    minimum: bool = False,
) -> tuple[Any, ...]:
    key = (text, style_key(style), max_width, justification_spacing, is_line_start, minimum)
    line = kept.get(key)
    if line is not None:
        reuse.hits += 1
        layout, *metrics = line
        return (copy.copy(layout), *metrics)
    reuse.misses += 1
    line = _original(text, style, context, max_width, justification_spacing, is_line_start, minimum)
    layout, *metrics = line
    if kept.put(key, (copy.copy(layout), *metrics)):
        _interned.clear()
    return line


@contextmanager
def shared_line_breaking() -> Iterator[None]:
    """Reuse line-breaking results inside this block (one render; not thread-safe)."""
    try:
        with (
            swapped(inline, "split_first_line", _shared_split_first_line),
            swapped(preferred, "split_first_line", _shared_split_first_line),
        ):
            yield
    finally:
        forget_styles()


def forget_styles() -> None:
    """Drop the style keys of the render that ended (they hold its styles)."""
    _style_keys.clear()


def kept_texts() -> set[str]:
    """The texts of every line kept now (for tests)."""
    return {key[0] for key in kept}  # type: ignore[index]
