"""Which characters the installed fonts can print.

Request text is checked against the union of every installed font's character set,
as fontconfig reports it, so that a character no font can draw is refused with a
clear message instead of failing the render (or printing a box).
"""

from __future__ import annotations

import bisect
import shutil
import subprocess
import unicodedata
from functools import cache

# Characters that are never drawn: format controls (joiners, marks) and variation
# selectors. They need no glyph.
_VARIATION_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))


@cache
def _coverage() -> tuple[list[int], list[int]] | None:
    """Sorted, merged (starts, ends) of all fonts' character sets; None without fontconfig."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    output = subprocess.run(
        [fc_list, "--format=%{charset}\n", ":"], capture_output=True, text=True, check=False
    ).stdout
    ranges: list[tuple[int, int]] = []
    for token in output.split():
        low, _, high = token.partition("-")
        try:
            ranges.append((int(low, 16), int(high or low, 16)))
        except ValueError:
            continue
    if not ranges:
        return None
    ranges.sort()
    starts, ends = [ranges[0][0]], [ranges[0][1]]
    for first, last in ranges[1:]:
        if first <= ends[-1] + 1:
            ends[-1] = max(ends[-1], last)
        else:
            starts.append(first)
            ends.append(last)
    return starts, ends


def needs_no_glyph(ch: str) -> bool:
    code = ord(ch)
    return (
        ch.isspace()
        or unicodedata.category(ch) == "Cf"
        or any(low <= code <= high for low, high in _VARIATION_SELECTORS)
    )


def unprintable(text: str) -> list[str]:
    """The characters of ``text`` that no installed font can print, as ``U+XXXX``."""
    # Most request text is printable ASCII, which the fonts the set-up installs all
    # print: reading every installed font's character set takes a new process 0.2 s.
    if text.isascii() and all(ch.isprintable() or ch.isspace() for ch in text):
        return []
    coverage = _coverage()
    if coverage is None:
        return []
    starts, ends = coverage
    missing = []
    for ch in dict.fromkeys(text):
        if needs_no_glyph(ch):
            continue
        index = bisect.bisect_right(starts, ord(ch)) - 1
        if index < 0 or ord(ch) > ends[index]:
            missing.append(f"U+{ord(ch):04X}")
    return missing
