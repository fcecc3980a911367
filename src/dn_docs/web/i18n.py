"""The web app's interface language (English or Spanish) and the names it shows.

The interface's own texts are the ``web`` gettext domain (``locales/*/LC_MESSAGES/web.po``);
areas, conditions and screening questions are the clinical catalog's texts (the
``messages`` domain), so staff read the words the patient's document prints.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

from babel import Locale
from babel.support import NullTranslations, Translations

from .. import locales, resources
from ..errors import DnDocsError
from ..service.services.users import UI_LOCALES

SOURCE = "en"


@cache
def _web_translations(locale_id: str) -> NullTranslations:
    if locale_id == SOURCE:
        return NullTranslations()
    found = Translations.load(str(resources.locales_dir()), [locale_id], "web")
    if not isinstance(found, Translations):
        raise DnDocsError(
            f"no compiled web catalog for '{locale_id}' in {resources.locales_dir()};"
            " run 'pybabel compile -d locales -D web' (the set-up script does this)"
        )
    return found


def negotiate(setting: str | None, accept_language: str | None) -> str:
    """The user's own setting, else the browser's first language the app speaks."""
    if setting in UI_LOCALES:
        return setting
    weighted: list[tuple[float, int, str]] = []
    for number, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        weighted.append((-quality, number, tag.strip().lower()))
    for _quality, _number, tag in sorted(weighted):
        language = tag.split("-")[0]
        if language in UI_LOCALES:
            return language
    return SOURCE


@dataclass(frozen=True)
class Texts:
    """Translations for one page: ``_`` (interface) and ``content`` (the clinical catalog)."""

    locale: str

    def __call__(self, message: str, **values: object) -> str:
        text = _web_translations(self.locale).gettext(message)
        return text % values if values else text

    def content(self, message: str) -> str:
        return locales.load_translations(self.locale).gettext(message)

    @property
    def direction(self) -> str:
        return locales.SUPPORTED.get(self.locale, "ltr")


def _sort_key(text: str) -> str:
    """Alphabetical as a reader expects: Árabe among the A's, not after Z."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


@cache
def language_name(locale_id: str, in_locale: str) -> str:
    """A shipped language's name in ``in_locale``, such as ``Arabic`` or ``árabe``."""
    return _capitalized(Locale.parse(locale_id).get_display_name(in_locale) or locale_id)


@cache
def language_choices(ui_locale: str) -> list[tuple[str, str]]:
    """Every shipped language as ``(id, "Own name, name in the interface's language")``,
    in the order of the interface's names (``Español, Spanish``)."""
    choices = []
    for locale_id in locales.SUPPORTED:
        own = language_name(locale_id, locale_id)
        here = language_name(locale_id, ui_locale)
        choices.append((_sort_key(here), locale_id, own if own == here else f"{own}, {here}"))
    return [(locale_id, label) for _key, locale_id, label in sorted(choices)]
