"""Fingerprints of the text drawn on a page, shared by the writer and by ``verify``.

A fingerprint is the SHA-256 of a page's text objects (the ``BT`` … ``ET`` blocks
of its content stream): every glyph drawn, with its font and position. It catches
any change to the printed words, is exact, and costs well under a millisecond;
extracting the text back to Unicode would be slower and depend on the extractor.
"""

from __future__ import annotations

import hashlib
import re

# WeasyPrint writes glyphs as hex strings, so the operator names cannot occur inside one.
_TEXT_OBJECT = re.compile(rb"\bBT\b(.*?)\bET\b", re.DOTALL)


def text_fingerprint(content: bytes) -> str:
    """The fingerprint of one page, from its decompressed content stream."""
    digest = hashlib.sha256()
    for block in _TEXT_OBJECT.findall(content):
        digest.update(block)
    return digest.hexdigest()
