"""Free text in a request, cleaned and checked as it will be printed.

Limits are counted after the text is cleaned and normalised (NFC), so a name is
measured by what prints, not by how it was typed; a raw value far over the limit is
refused before any work is done on it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from . import glyphs

# Bidirectional embeddings, overrides and isolates, and invisible spaces: a name needs
# none of them, and they could make printed text read differently from what was typed.
# (Joiners, U+200C and U+200D, are kept: Persian and Indic names need them.)
_INVISIBLE_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0x200E, 0x200F, 0x061C, 0xFEFF]
)
#: How far over its limit raw text may be before cleaning: decomposed accents and
#: removed controls shrink it, but not by more than this.
RAW_SLACK = 4


def cleaned(value: str, max_length: int) -> str:
    """``value`` without invisible controls, NFC-normalised and stripped; ValueError
    (the reason, never the text) if it is empty, prints nothing, is too long or has
    characters no font prints."""
    too_long = f"is too long (at most {max_length} characters)"
    if len(value) > max_length * RAW_SLACK:
        raise ValueError(too_long)
    # Control characters have no place on a printed form and can corrupt CSV and logs.
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("contains control characters")
    value = unicodedata.normalize("NFC", value.translate(_INVISIBLE_CONTROLS)).strip()
    if not value:
        raise ValueError("must not be empty")
    if glyphs.prints_nothing(value):
        raise ValueError("prints as nothing (only invisible, filler or combining characters)")
    if len(value) > max_length:
        raise ValueError(too_long)
    if missing := glyphs.unprintable(value):
        raise ValueError(
            "has characters no installed font can print (" + ", ".join(missing[:5]) + ")"
        )
    return value


def limited(max_length: int) -> Callable[[str], str]:
    """A pydantic after-validator: :func:`cleaned` with ``max_length``."""

    def check(value: str) -> str:
        return cleaned(value, max_length)

    return check
