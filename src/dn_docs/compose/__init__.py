"""Localized HTML: fill the locale's Jinja templates with a request and its selected content."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time, get_timezone_gmt
from babel.lists import format_list
from markupsafe import escape

from .. import emergency, locales, resources
from ..content import CATALOG_VERSION, Category, Selection, select
from ..content.catalog import COMMON, NERVE_PAIN_CONDITIONS
from ..content.labels import (
    AREA_LABELS,
    BILINGUAL_NOTE,
    CONDITION_LABELS,
    LANGUAGE_HELP,
    ORIGINAL_ENGLISH,
    TRANSLATION_DRAFT,
    TRANSLATION_REVIEWED,
)
from ..errors import RequestError
from ..request import DocumentRequest
from ..signing.captures import SignatureCapture
from .bilingual import BothLanguages, interleave
from .environment import environment, phone
from .logo import logo_data_uri
from .text import text_hash, visible_text

#: Version of the document layouts in ``templates/``; printed in every footer stamp.
TEMPLATE_VERSION = "1.1"

# Stands in for the text hash while the text is being hashed. Request text cannot
# produce it: autoescaping turns every "<" a request brings into "&lt;".
_HASH_SLOT = "<!--dn-docs:text-hash-->"
_MAIN_OPEN, _MAIN_CLOSE = "<main>", "</main>"
# What a signer filled into their signature box (signature, printed name, time) is
# marked so that it stays out of the text hash: a signed consent carries the same
# stamp as the copy its signers read. Request text cannot close the mark either.
_FILL = re.compile(r"<!--dn:fill-->.*?<!--/dn:fill-->", re.DOTALL)
# The signature boxes a template printed, by role.
_BOX = re.compile(r'<div class="signature" data-block="([a-z_]+)">')


@dataclass(frozen=True)
class ComposedDocument:
    """A request turned into localized HTML, with what the PDF stage and the stamp need."""

    request: DocumentRequest
    selection: Selection
    html: str
    text: str
    text_hash: str
    translation_version: str
    #: Signatures placed in the document's signature boxes (see :mod:`dn_docs.signing`).
    signatures: tuple[SignatureCapture, ...] = ()

    @property
    def standalone_html(self) -> str:
        """The HTML with the print stylesheet inlined: a file that renders on its own."""
        css = resources.print_css()
        return self.html.replace("</head>", f"<style>\n{css}</style>\n</head>", 1)

    @property
    def stamp(self) -> dict[str, str]:
        return {
            "template": TEMPLATE_VERSION,
            "catalog": CATALOG_VERSION,
            "translation": self.translation_version,
            "text_sha256": self.text_hash,
        }


def _language_help(number: str) -> list[dict[str, str]]:
    notes = []
    for locale_id, direction in locales.SUPPORTED.items():
        text = locales.load_translations(locale_id).gettext(LANGUAGE_HELP)
        notes.append(
            {
                "lang": locales.get(locale_id).html_lang,
                "dir": direction,
                "text": escape(text) % {"phone": phone(number)},
            }
        )
    return notes


def _filled_boxes(
    signatures: Sequence[SignatureCapture], date: Any, babel_locale: Any
) -> dict[str, dict[str, str | None]]:
    """What each signer's box shows: the signature image, the printed name, the time."""
    filled: dict[str, dict[str, str | None]] = {}
    for signature in signatures:
        when = signature.signed_at
        time = format_time(when, "short", tzinfo=when.tzinfo, locale=babel_locale)
        zone = get_timezone_gmt(when, "short", locale=babel_locale)
        image = signature.image
        filled[signature.role.value] = {
            "image": "data:image/png;base64," + base64.b64encode(image).decode("ascii")
            if image is not None
            else None,
            "name": signature.name,
            "time": f"{date(when)} {time} {zone}",
        }
    return filled


def translation_note(locale_id: str) -> str:
    """The footer's plain words for the translation: its version and whether a medical
    translator has checked it."""
    gettext = locales.load_translations(locale_id).gettext
    if locale_id == locales.SOURCE_LOCALE:
        return gettext(ORIGINAL_ENGLISH)
    status = locales.catalog_header(locale_id).get("review-status", "")
    message = TRANSLATION_REVIEWED if status.startswith("reviewed") else TRANSLATION_DRAFT
    return gettext(message) % {"version": locales.catalog_version(locale_id)}


def language_name(locale_id: str) -> Callable[[str], str]:
    """The name of the language ``locale_id``, in the language a text is printed in."""

    def name_in(reader: str) -> str:
        name = Locale.parse(locale_id).get_display_name(locales.get(reader).babel) or locale_id
        return name[:1].upper() + name[1:]

    return name_in


def _context(
    request: DocumentRequest,
    selection: Selection,
    locale_id: str | None = None,
    second: str | None = None,
    signatures: Sequence[SignatureCapture] = (),
) -> dict[str, Any]:
    locale = locales.get(locale_id or request.locale)
    facts = emergency.for_country(request.clinic.country)
    gettext = locales.load_translations(locale.id).gettext

    def date(value: Any) -> str:
        return format_date(value, format="long", locale=locale.babel)

    return {
        "r": request,
        "sel": selection,
        "C": Category,
        "COMMON": COMMON,
        "locale": locale,
        "facts": facts,
        "date": date,
        "language_name": language_name,
        "both": BothLanguages(locale.id, second),
        "translation_note": translation_note(request.locale),
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
        "bilingual_note": None,
        "language_help": (
            _language_help(request.clinic.phone) if request.options.language_assistance else []
        ),
        "text_hash_slot": _HASH_SLOT,
        "logo": logo_data_uri(request.clinic.logo) if request.clinic.logo else None,
        "signed": _filled_boxes(signatures, date, locale.babel),
    }


def _main(html: str) -> tuple[int, int]:
    return html.index(_MAIN_OPEN) + len(_MAIN_OPEN), html.rindex(_MAIN_CLOSE)


def compose(
    request: DocumentRequest, signatures: Sequence[SignatureCapture] = ()
) -> ComposedDocument:
    """Select the content for ``request`` and render its localized HTML.

    ``signatures`` (validated by :func:`dn_docs.signing.parse_captures`) are placed in
    their signature boxes; a role the document has no box for is refused.
    """
    selection = select(request)
    template = f"{request.kind}.html"
    second = request.clinic.language
    bilingual = request.options.bilingual and second != request.locale
    context = _context(
        request, selection, second=second if bilingual else None, signatures=signatures
    )
    if bilingual:
        gettext = locales.load_translations(request.locale).gettext
        context["bilingual_note"] = gettext(BILINGUAL_NOTE) % {
            "first": language_name(request.locale)(request.locale),
            "second": language_name(second)(request.locale),
        }
    html = environment(request.locale).get_template(template).render(context)
    if bilingual:
        other = (
            environment(second)
            .get_template(template)
            .render(_context(request, selection, second, signatures=signatures))
        )
        start, end = _main(html)
        other_start, other_end = _main(other)
        locale = locales.get(second)
        merged = interleave(
            html[start:end], other[other_start:other_end], locale.html_lang, locale.direction
        )
        html = html[:start] + merged + html[end:]
    start, end = _main(html)
    main = html[start:end]
    _check_boxes(main, signatures)
    text = visible_text(_FILL.sub("", main))
    digest = text_hash(text)
    html = html.replace(_HASH_SLOT, digest[:12], 1)
    return ComposedDocument(
        request=request,
        selection=selection,
        html=html,
        text=text,
        text_hash=digest,
        translation_version=context["versions"]["translation"],
        signatures=tuple(signatures),
    )


def signature_boxes(html: str) -> list[str]:
    """The roles whose signature boxes ``html`` has, in document order."""
    return _BOX.findall(html)


def _check_boxes(html: str, signatures: Sequence[SignatureCapture]) -> None:
    boxes = signature_boxes(html)
    problems = [
        (f"signatures[{index}].role", f"this document has no {signature.role} signature box")
        for index, signature in enumerate(signatures)
        if signature.role.value not in boxes
    ]
    if problems:
        raise RequestError(problems)
