"""The document's text, as a reader sees it, and the short hash printed in its footer stamp."""

from __future__ import annotations

import hashlib
import unicodedata
from html.parser import HTMLParser

_SKIPPED = {"style", "script", "head", "title"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def normalize(text: str) -> str:
    """NFC, one space between words: the form every text hash is computed over."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def squash(text: str) -> str:
    """Text without whitespace or invisible format characters (joiners, bidi marks),
    which PDF text extraction does not return: for comparing printed text."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def visible_text(html: str) -> str:
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return normalize(" ".join(collector.parts))


def text_hash(text: str) -> str:
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()
