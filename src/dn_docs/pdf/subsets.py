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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from weasyprint.pdf.fonts import Font

from .generations import Generations, Reuse
from .patching import swapped

#: Subsets are kept in two generations of at most this many (see :mod:`.generations`).
#: A CJK subset and its compressed bytes are some 300 KiB, a Latin one some 30 KiB.
GENERATION_SUBSETS = 32

Subset = Callable[[Any, dict[int, str], bool], None]


@dataclass(eq=False)
class _KeptSubset:
    file_crc: int  # of the whole font file the subset was made from
    data: bytes
    compressed: dict[int, bytes] = field(default_factory=dict)  # by zlib level


reuse = Reuse()
kept: Generations[_KeptSubset] = Generations(GENERATION_SUBSETS)
# id(data) → its kept subset, to find the compressed bytes of a subset handed out.
_by_data: dict[int, _KeptSubset] = {}
_original: Subset = Font.subset


def _shared_subset(font: Any, to_unicode: dict[int, str], hinting: bool) -> None:
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
    subset = kept.get(key)
    if subset is not None and subset.file_crc == zlib.crc32(original):
        reuse.hits += 1
        font.file_content = subset.data
        return
    reuse.misses += 1
    _original(font, to_unicode, hinting)
    if font.file_content is original:  # HarfBuzz could not subset it
        return
    subset = _KeptSubset(zlib.crc32(original), font.file_content)
    if kept.put(key, subset):
        _by_data.clear()
        _by_data.update(
            {id(each.data): each for each in (*kept.newer.values(), *kept.older.values())}
        )
    _by_data[id(subset.data)] = subset


def compressed(data: bytes, level: int, compress: Callable[[bytes, int], bytes]) -> bytes:
    """``compress(data, level)``, made once for a kept subset's bytes."""
    subset = _by_data.get(id(data))
    if subset is None or subset.data is not data:
        return compress(data, level)
    made = subset.compressed.get(level)
    if made is None:
        made = subset.compressed[level] = compress(data, level)
    return made


@contextmanager
def shared_subsets() -> Iterator[None]:
    """Reuse font subsets inside this block (one document's write; not thread-safe)."""
    with swapped(Font, "subset", _shared_subset):
        yield
