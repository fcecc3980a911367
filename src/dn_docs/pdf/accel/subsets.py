"""Font subsets made once for each set of glyphs.

Every PDF embeds the fonts it uses, cut down to the glyphs it draws. HarfBuzz makes a
subset from the whole font file for every document: about 13 ms for each of the two
CJK fonts of a Chinese, Japanese or Korean document, whose subsets also keep an empty
entry for every glyph before the last one used, some 200 KiB to compress. Documents
with the same content in the same language draw the same glyphs of those fonts (a
patient's name is in another font unless it is written in the same script). So the
warm renderer keeps each subset, with its compressed bytes, and hands it out again
when the same font file is cut down to the same glyphs with the same options.

A kept subset is checked against the font file it was made from (its length and CRC,
worked out only when the glyphs match), so a font of another configuration that
happens to share a name never gets it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from weasyprint.pdf.fonts import Font

from .adapter import Replacement, Target
from .generations import Generations, Reuse

#: Subsets are kept in two generations of at most this many (see :mod:`.generations`).
#: A CJK subset and its compressed bytes are some 300 KiB, a Latin one some 30 KiB.
GENERATION_SUBSETS = 32

TARGET = Target(Font, "subset", "weasyprint.pdf.fonts.Font.subset", "(self, to_unicode, hinting)")


@dataclass(eq=False)
class _KeptSubset:
    file_crc: int  # of the whole font file the subset was made from
    data: bytes
    compressed: dict[int, bytes] = field(default_factory=dict)  # by zlib level


class SharedSubsets:
    """Font subsets kept between documents, with their compressed bytes."""

    def __init__(self) -> None:
        self.reuse = Reuse()
        self.kept: Generations[_KeptSubset] = Generations(GENERATION_SUBSETS)
        # id(data) → its kept subset, to find the compressed bytes of a subset handed out.
        self._by_data: dict[int, _KeptSubset] = {}

        def subset(font: Font, to_unicode: dict[int, str], hinting: bool) -> None:
            self.subset(font, to_unicode, hinting)

        self.replacements = (Replacement(TARGET, subset),)

    def subset(self, font: Any, to_unicode: dict[int, str], hinting: bool) -> None:
        if not to_unicode:
            return
        original = font.file_content
        key = (
            font.hash,
            font.index,
            len(original),
            tuple(sorted(to_unicode)),
            hinting,
            bool(font.missing),
        )
        subset = self.kept.get(key)
        if subset is not None and subset.file_crc == zlib.crc32(original):
            self.reuse.hits += 1
            font.file_content = subset.data
            return
        self.reuse.misses += 1
        TARGET.original(font, to_unicode, hinting)
        if font.file_content is original:  # HarfBuzz could not subset it
            return
        subset = _KeptSubset(zlib.crc32(original), font.file_content)
        if self.kept.put(key, subset):
            self._by_data = {
                id(each.data): each
                for each in (*self.kept.newer.values(), *self.kept.older.values())
            }
        self._by_data[id(subset.data)] = subset

    def compressed(self, data: bytes, level: int, compress: Callable[[bytes, int], bytes]) -> bytes:
        """``compress(data, level)``, made once for a kept subset's bytes."""
        subset = self._by_data.get(id(data))
        if subset is None or subset.data is not data:
            return compress(data, level)
        made = subset.compressed.get(level)
        if made is None:
            made = subset.compressed[level] = compress(data, level)
        return made
