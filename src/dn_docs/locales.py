"""Supported languages, locale negotiation and translation catalogs.

A locale is passed around as a :class:`DocumentLocale` value; nothing here sets
process-wide state, so one worker can render Arabic and Spanish side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations

from . import resources
from .errors import DnDocsError, UnsupportedLocaleError

#: The source language of every message.
SOURCE_LOCALE = "en"

#: Locale id → writing direction. Every id here ships a complete catalog.
SUPPORTED: dict[str, str] = {
    "en": "ltr",
    "es": "ltr",
    "zh_Hans": "ltr",
    "zh_Hant": "ltr",
    "vi": "ltr",
    "ko": "ltr",
    "tl": "ltr",
    "ru": "ltr",
    "ar": "rtl",
    "ht": "ltr",
    "fr": "ltr",
    "pl": "ltr",
    "pt_BR": "ltr",
    "de": "ltr",
    "ja": "ltr",
    "hi": "ltr",
    "fa": "rtl",
    "he": "rtl",
}

# Language-only and regional tags that map onto a shipped catalog.
_LANGUAGE_DEFAULTS = {"zh": "zh_Hans", "pt": "pt_BR", "fil": "tl"}
_TRADITIONAL_CHINESE_TERRITORIES = {"TW", "HK", "MO"}


@dataclass(frozen=True)
class DocumentLocale:
    """A shipped locale with what rendering needs to know about it."""

    id: str
    babel: Locale
    direction: str

    @property
    def html_lang(self) -> str:
        """BCP 47 tag for the ``lang`` attribute (``zh-Hans``, ``pt-BR``)."""
        return self.id.replace("_", "-")


def supported_list() -> str:
    return ", ".join(sorted(SUPPORTED))


def _chinese_script(subtags: list[str]) -> str | None:
    """``zh_Hant`` or ``zh_Hans`` when a Chinese tag names its script: the script decides,
    whatever region follows (``zh-Hant-CN`` is Traditional, ``zh-Hans-TW`` Simplified)."""
    scripts = {"hant": "zh_Hant", "hans": "zh_Hans"}
    if subtags[0] != "zh":
        return None
    for subtag in subtags[1:]:
        if subtag in scripts:
            return scripts[subtag]
    return None


def _match(tag: str) -> str | None:
    if tag in SUPPORTED:
        return tag
    # Extensions and private use (``-u-nu-hanidec``, ``-x-…``) say nothing about the
    # catalog; everything from the first single-letter subtag on is dropped.
    subtags = []
    for subtag in tag.replace("_", "-").lower().split("-"):
        if len(subtag) == 1:
            break
        subtags.append(subtag)
    if not subtags:
        return None
    if chinese := _chinese_script(subtags):
        return chinese if chinese in SUPPORTED else None
    tag = "-".join(subtags)
    try:
        parsed = Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    language, script, territory = parsed.language, parsed.script, parsed.territory
    if language == "zh":
        if script == "Hant" or (script is None and territory in _TRADITIONAL_CHINESE_TERRITORIES):
            return "zh_Hant" if "zh_Hant" in SUPPORTED else None
        return "zh_Hans" if "zh_Hans" in SUPPORTED else None
    for candidate in (f"{language}_{territory}", language, _LANGUAGE_DEFAULTS.get(language)):
        if candidate in SUPPORTED:
            return candidate
    return None


def negotiate(tag: str) -> str:
    """Map a language tag such as ``es-MX``, ``zh-TW`` or ``pt`` to a shipped locale id."""
    matched = _match(tag.strip()) if tag and tag.strip() else None
    if matched is None:
        raise UnsupportedLocaleError(
            [
                (
                    "locale",
                    f"'{tag[:40]}' is not a supported language (supported: {supported_list()})",
                )
            ]
        )
    return matched


@cache
def get(locale_id: str) -> DocumentLocale:
    if locale_id not in SUPPORTED:
        raise UnsupportedLocaleError([("locale", f"'{locale_id}' is not supported")])
    return DocumentLocale(locale_id, Locale.parse(locale_id), SUPPORTED[locale_id])


@cache
def load_translations(locale_id: str) -> NullTranslations:
    """The compiled catalog for ``locale_id``; refuses to fall back silently to English."""
    if locale_id == SOURCE_LOCALE:
        return NullTranslations()
    translations = Translations.load(str(resources.locales_dir()), [locale_id], "messages")
    if not isinstance(translations, Translations):
        raise DnDocsError(
            f"no compiled catalog for '{locale_id}' in {resources.locales_dir()}; "
            "run 'pybabel compile -d locales' (the set-up script does this)"
        )
    return translations


@cache
def catalog_header(locale_id: str) -> dict[str, str]:
    """``Key: value`` lines of the comment that opens the locale's ``.po`` file, keys lower-cased.

    The translation version and review status live there, not in ``X-`` header
    fields, because Babel drops unknown header fields on ``update`` and ``compile``.
    """
    return read_header_comment(resources.locales_dir() / locale_id / "LC_MESSAGES" / "messages.po")


def read_header_comment(path: Path) -> dict[str, str]:
    header: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            key, colon, value = line[1:].strip().partition(":")
            if colon and key and " " not in key.strip():
                header[key.strip().lower()] = value.strip()
    return header


def catalog_version(locale_id: str) -> str:
    """The translation version recorded in the catalog header (``X-Translation-Version``)."""
    if locale_id == SOURCE_LOCALE:
        return "source"
    return catalog_header(locale_id).get("translation-version", "unversioned")
