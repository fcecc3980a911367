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
from collections.abc import Callable, Hashable
from typing import Any

from weasyprint.layout import inline, preferred

from .adapter import Replacement, Target
from .generations import Generations, Reuse

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

_SIGNATURE = (
    "(text, style, context, max_width, justification_spacing, is_line_start=True, minimum=False)"
)
#: WeasyPrint's two callers of ``split_first_line``, each by the name it imported.
TARGETS = tuple(
    Target(module, "split_first_line", "weasyprint.text.line_break.split_first_line", _SIGNATURE)
    for module in (inline, preferred)
)
_original: Callable[..., tuple[Any, ...]] = TARGETS[0].original


class FontConfigurations:
    """A number for each font configuration, which no other gets while it lives.

    Fonts differ between configurations. An id() could be reused once one is
    collected, so each configuration gets its own serial number instead.
    """

    def __init__(self) -> None:
        self._serials: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._next = itertools.count()

    def serial(self, font_config: Any) -> int:
        serial = self._serials.get(font_config)
        if serial is None:
            serial = self._serials[font_config] = next(self._next)
        return serial


class StyleKeys:
    """What line breaking and drawing read from a style, as a hashable key.

    A render asks about the same few hundred styles thousands of times; each style is
    kept with its key, so its id cannot be reused, until :meth:`forget` at the end of
    the render. Equal keys of different renders are stored once.
    """

    def __init__(self, font_configs: FontConfigurations) -> None:
        self.font_configs = font_configs
        self._by_style: dict[int, tuple[Any, Hashable]] = {}
        self._interned: dict[Hashable, Hashable] = {}

    def key(self, style: Any) -> Hashable:
        kept = self._by_style.get(id(style))
        if kept is None:
            key = (
                self.font_configs.serial(style.font_config),
                *(style[name] for name in STYLE_PROPERTIES),
            )
            kept = self._by_style[id(style)] = (style, self._interned.setdefault(key, key))
        return kept[1]

    def forget(self) -> None:
        """Drop the keys of the render that ended (they hold its styles)."""
        self._by_style.clear()

    def forget_interned(self) -> None:
        self._interned.clear()


class SharedLineBreaking:
    """Results of ``split_first_line`` kept between documents."""

    def __init__(self, style_keys: StyleKeys) -> None:
        self.style_keys = style_keys
        self.reuse = Reuse()
        self.kept: Generations[tuple[Any, ...]] = Generations(GENERATION_LINES)
        self.replacements = tuple(Replacement(target, self.split_first_line) for target in TARGETS)

    def split_first_line(
        self,
        text: str,
        style: Any,
        context: Any,
        max_width: float | None,
        justification_spacing: float,
        is_line_start: bool = True,
        minimum: bool = False,
    ) -> tuple[Any, ...]:
        style_keys = self.style_keys
        key = (
            text,
            style_keys.key(style),
            max_width,
            justification_spacing,
            is_line_start,
            minimum,
        )
        line = self.kept.get(key)
        if line is not None:
            self.reuse.hits += 1
            layout, *metrics = line
            return (copy.copy(layout), *metrics)
        self.reuse.misses += 1
        line = _original(
            text, style, context, max_width, justification_spacing, is_line_start, minimum
        )
        layout, *metrics = line
        if self.kept.put(key, (copy.copy(layout), *metrics)):
            style_keys.forget_interned()
        return line

    def kept_texts(self) -> set[str]:
        """The texts of every line kept now (for tests)."""
        return {key[0] for key in self.kept}  # type: ignore[index]
