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

# Line and paragraph separators and the interlinear annotation controls: no font draws
# them, and WeasyPrint breaks a line or prints a box where they stand.
NEVER_PRINTED = frozenset("\u2028\u2029\ufff9\ufffa\ufffb")

# Characters that have a glyph, but an empty one: Hangul fillers, the blank Braille
# pattern, the Mongolian vowel separator and Khmer's inherent vowels.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u17b4\u17b5")


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


def prints_nothing(text: str) -> bool:
    """True if ``text`` would leave the paper blank: only spaces, invisible format
    characters, fillers, variation selectors and combining marks with nothing to sit on."""
    return all(
        needs_no_glyph(ch) or ch in _FILLERS or unicodedata.category(ch) in ("Mn", "Me")
        for ch in text
    )


def unprintable(text: str) -> list[str]:
    """The characters of ``text`` that no installed font can print, as ``U+XXXX``."""
    # Most request text is printable ASCII, which the fonts the set-up installs all
    # print: reading every installed font's character set takes a new process 0.2 s.
    if text.isascii() and all(ch.isprintable() or ch.isspace() for ch in text):
        return []
    never = [f"U+{ord(ch):04X}" for ch in dict.fromkeys(text) if ch in NEVER_PRINTED]
    coverage = _coverage()
    if coverage is None:
        return never
    starts, ends = coverage
    missing = never
    for ch in dict.fromkeys(text):
        if ch in NEVER_PRINTED or needs_no_glyph(ch):
            continue
        index = bisect.bisect_right(starts, ord(ch)) - 1
        if index < 0 or ord(ch) > ends[index]:
            missing.append(f"U+{ord(ch):04X}")
    return missing
