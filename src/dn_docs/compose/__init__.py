"""Localized HTML: fill the locale's Jinja templates with a request and its selected content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list

from .. import emergency, locales
from ..content import CATALOG_VERSION, Category, Selection, select
from ..content.catalog import NERVE_PAIN_CONDITIONS
from ..content.labels import AREA_LABELS, CONDITION_LABELS
from ..request import DocumentRequest
from .environment import environment
from .text import text_hash, visible_text

#: Version of the document layouts in ``templates/``; printed in every footer stamp.
TEMPLATE_VERSION = "1.0"

# Stands in for the text hash while the text is being hashed. Request text cannot
# produce it: autoescaping turns every "<" a request brings into "&lt;".
_HASH_SLOT = "<!--dn-docs:text-hash-->"
_MAIN_OPEN, _MAIN_CLOSE = "<main", "</main>"


@dataclass(frozen=True)
class ComposedDocument:
    """A request turned into localized HTML, with what the PDF stage and the stamp need."""

    request: DocumentRequest
    selection: Selection
    html: str
    text: str
    text_hash: str
    title: str
    paper: str
    translation_version: str

    @property
    def stamp(self) -> dict[str, str]:
        return {
            "template": TEMPLATE_VERSION,
            "catalog": CATALOG_VERSION,
            "translation": self.translation_version,
            "text_sha256": self.text_hash,
        }


def _context(request: DocumentRequest, selection: Selection) -> dict[str, Any]:
    locale = locales.get(request.locale)
    facts = emergency.for_country(request.clinic.country)
    gettext = locales.load_translations(request.locale).gettext

    def date(value: Any) -> str:
        return format_date(value, format="long", locale=locale.babel)

    def language_name(locale_id: str) -> str:
        name = Locale.parse(locale_id).get_display_name(locale.babel) or locale_id
        return name[:1].upper() + name[1:]

    return {
        "r": request,
        "sel": selection,
        "C": Category,
        "locale": locale,
        "facts": facts,
        "date": date,
        "language_name": language_name,
        "areas": format_list(
            [gettext(AREA_LABELS[area]) for area in request.session.areas], locale=locale.babel
        ),
        "condition": (
            gettext(CONDITION_LABELS[request.session.condition])
            if request.session.condition
            else None
        ),
        "nerve_pain": request.session.condition in NERVE_PAIN_CONDITIONS,
        "versions": {
            "template": TEMPLATE_VERSION,
            "catalog": CATALOG_VERSION,
            "translation": locales.catalog_version(request.locale),
        },
        "text_hash_slot": _HASH_SLOT,
    }


def compose(request: DocumentRequest) -> ComposedDocument:
    """Select the content for ``request`` and render its localized HTML."""
    selection = select(request)
    env = environment(request.locale)
    context = _context(request, selection)
    html = env.get_template(f"{request.kind}.html").render(context)
    main = html[html.index(_MAIN_OPEN) : html.rindex(_MAIN_CLOSE)]
    text = visible_text(main)
    digest = text_hash(text)
    html = html.replace(_HASH_SLOT, digest[:12], 1)
    return ComposedDocument(
        request=request,
        selection=selection,
        html=html,
        text=text,
        text_hash=digest,
        title=visible_text(html[html.index("<title>") : html.index("</title>")]),
        paper=context["facts"].paper,
        translation_version=context["versions"]["translation"],
    )
