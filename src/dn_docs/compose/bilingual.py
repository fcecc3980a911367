"""The bilingual edition: sections in both languages, and labels that carry both.

Most sections of a bilingual document are printed twice: the patient's language, then
the same section in the clinic's language (:func:`interleave`). The parts a patient
fills in or signs (the health questions, the consent statements and the signature
blocks) are printed once, so no one ticks or signs twice: each of their texts is
followed by its clinic-language version (:class:`BothLanguages`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

from .. import locales

#: Marks where each section starts; "once" sections are not repeated in the second
#: language (the parts that are filled in and signed; the language-help notice).
SECTION, ONCE = "<!--dn:section", " once-->"

#: A value printed in a message that depends on the message's language (a language's name).
Localized = Callable[[str], str]


class BothLanguages:
    """``both(message, **values)`` in a template: the message in the document's language
    and, in a bilingual edition, again in the clinic's language right after it.

    A value that is a :data:`Localized` callable is given the language it is printed in.
    """

    def __init__(self, locale_id: str, second: str | None) -> None:
        self.locale_id = locale_id
        self.second = locales.get(second) if second else None

    def _text(self, locale_id: str, message: str, values: dict[str, Any]) -> str:
        text = locales.load_translations(locale_id).gettext(message)
        if not values:
            return text
        return text % {k: v(locale_id) if callable(v) else v for k, v in values.items()}

    def __call__(self, message: str, **values: Any) -> Markup:
        first = escape(self._text(self.locale_id, message, values))
        if self.second is None:
            return first
        return first + Markup(' <span class="also" lang="{}" dir="{}">{}</span>').format(
            self.second.html_lang,
            self.second.direction,
            self._text(self.second.id, message, values),
        )


def interleave(first: str, second: str, lang: str, direction: str) -> str:
    """Each section of ``first`` followed by the same section of ``second``."""
    ours, theirs = first.split(SECTION), second.split(SECTION)
    if len(ours) != len(theirs):
        raise AssertionError("the two languages rendered different sections")
    parts = [ours[0]]
    for mine, other in zip(ours[1:], theirs[1:], strict=True):
        parts.append(SECTION + mine)
        if not other.startswith(ONCE):
            body = other.split("-->", 1)[1]
            parts.append(
                f'<div class="second-language" lang="{lang}" dir="{direction}">{body}</div>'
            )
    return "".join(parts)
