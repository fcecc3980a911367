"""Localized documents, read back from the PDF: the locale's own text, no English left,
every glyph drawn, right-to-left where it belongs, and a page count close to English."""

from __future__ import annotations

from functools import cache

import pytest
from babel.messages.pofile import read_po
from helpers import Pdf, make_request, squash

import dn_docs
from dn_docs import locales, resources

TRANSLATED = sorted(set(locales.SUPPORTED) - {locales.SOURCE_LOCALE})
KINDS = ("consent", "aftercare")
SCRIPT_FONTS = {
    "ar": "Arabic",
    "fa": "Arabic",
    "he": "Hebrew",
    "hi": "Devanagari",
    "zh_Hans": "CJK",
    "zh_Hant": "CJK",
    "ja": "CJK",
    "ko": "CJK",
}


@cache
def catalog(locale_id: str) -> dict[str, str]:
    path = resources.locales_dir() / locale_id / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and isinstance(m.id, str)}


def english_sentences(locale_id: str) -> list[str]:
    """English messages of three words or more whose translation is not identical."""
    return [en for en, tr in catalog(locale_id).items() if len(en.split()) >= 3 and tr != en]


def rich_request(locale_id: str, kind: str) -> dict:
    """A request that prints nearly every section: torso, named nerves, nerve pain, e-stim,
    precautions, a minor with a guardian and an interpreter."""
    return make_request(
        locale_id,
        kind,
        session={
            "areas": ["neck", "gluteal", "forearm_wrist"],
            "condition": "sciatica",
            "electrical_stimulation": True,
        },
        screening={"pregnant": True, "blood_thinners": True},
        clinic={"language": "en"},
    )


@cache
def rendered(locale_id: str, kind: str) -> Pdf:
    return Pdf(dn_docs.render_pdf(rich_request(locale_id, kind)))


# Letters of the locale's own script, for locales that do not write in Latin letters.
SCRIPT_RANGES = {
    "ar": [(0x0600, 0x06FF)],
    "fa": [(0x0600, 0x06FF), (0xFB50, 0xFDFF)],
    "he": [(0x0590, 0x05FF)],
    "hi": [(0x0900, 0x097F)],
    "ru": [(0x0400, 0x04FF)],
    "ko": [(0xAC00, 0xD7AF), (0x1100, 0x11FF)],
    "zh_Hans": [(0x4E00, 0x9FFF)],
    "zh_Hant": [(0x4E00, 0x9FFF)],
    "ja": [(0x3040, 0x30FF), (0x4E00, 0x9FFF)],
}
# Scripts whose text PDF extraction returns out of logical order (right-to-left runs in
# visual order, Devanagari vowel signs moved): sentences are matched in the composed
# text, and the PDF is checked by script instead.
EXTRACTION_REORDERS = {"ar", "fa", "he", "hi"}


def own_script_share(locale_id: str, text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    ranges = SCRIPT_RANGES[locale_id]
    own = [ch for ch in letters if any(lo <= ord(ch) <= hi for lo, hi in ranges)]
    return len(own) / max(len(letters), 1)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale_id", TRANSLATED)
def test_document_is_in_the_locale_with_no_english_left(locale_id: str, kind: str) -> None:
    pdf = rendered(locale_id, kind)
    text = squash(pdf.text)
    leftovers = [en for en in english_sentences(locale_id) if squash(en) in text]
    assert not leftovers, f"untranslated English in {locale_id} {kind}: {leftovers[:3]}"
    composed = squash(dn_docs.render_document(rich_request(locale_id, kind)).composed.text)
    own = [
        tr
        for en, tr in catalog(locale_id).items()
        if len(en.split()) >= 6 and squash(tr) in composed
    ]
    assert len(own) >= 10, f"only {len(own)} translated sentences found"
    if locale_id not in EXTRACTION_REORDERS:
        in_pdf = [tr for tr in own if pdf.contains(tr)]
        assert len(in_pdf) == len(own), set(own) - set(in_pdf)
    if locale_id in SCRIPT_RANGES:
        share = own_script_share(locale_id, pdf.text)
        assert share > 0.75, f"only {share:.0%} of the letters are in the {locale_id} script"
    title = catalog(locale_id)[
        "Consent to dry needling" if kind == "consent" else "Aftercare after dry needling"
    ]
    assert pdf.lang == locale_id.replace("_", "-")
    assert squash(pdf.metadata["/Title"]).startswith(squash(title))


@pytest.mark.parametrize("locale_id", TRANSLATED)
def test_script_fonts_are_embedded(locale_id: str) -> None:
    fonts = rendered(locale_id, "consent").fonts()
    script = SCRIPT_FONTS.get(locale_id)
    if script:
        assert any(script in name for name in fonts), fonts
    # dn-docs-CJK-* are the compact copies of Noto Sans CJK (dn_docs.fonts).
    assert all(name.startswith(("Noto", "DejaVu", "dn-docs-CJK")) for name in fonts), fonts


@pytest.mark.parametrize("locale_id", TRANSLATED)
def test_page_count_within_one_of_english(locale_id: str) -> None:
    for kind in KINDS:
        english = rendered("en", kind).pages
        assert rendered(locale_id, kind).pages <= english + 1


HEADINGS = ["What is dry needling?", "Risks and side effects", "Keeping you safe", "Your consent"]


def _heading_starts(pdf: Pdf, locale_id: str) -> list[float]:
    """Where the section headings start on the line."""
    names = catalog(locale_id) if locale_id != "en" else {}
    wanted = {squash(names.get(h, h)).strip("?؟") for h in HEADINGS}
    return [f.x for f in pdf.fragments() if squash(f.text).strip("?؟") in wanted]


@pytest.mark.parametrize("locale_id", [loc for loc, d in locales.SUPPORTED.items() if d == "rtl"])
def test_right_to_left_documents_are_laid_out_right_to_left(locale_id: str) -> None:
    html = dn_docs.render_html(rich_request(locale_id, "consent"))
    assert 'dir="rtl"' in html.split(">", 2)[1]
    rtl, ltr = rendered(locale_id, "consent"), rendered("en", "consent")
    width = rtl.page_size[0]
    # Headings of a left-to-right page start at the left margin; on a right-to-left page
    # they end at the right margin, so their first glyph is far to the right.
    english, other = _heading_starts(ltr, "en"), _heading_starts(rtl, locale_id)
    assert len(english) == len(HEADINGS) and len(other) >= 2
    assert all(x < width * 0.15 for x in english)
    assert all(x > width * 0.4 for x in other), other


def test_left_to_right_locales_are_not_marked_rtl() -> None:
    html = dn_docs.render_html(rich_request("es", "consent"))
    assert 'dir="ltr"' in html.split(">", 2)[1]


@pytest.mark.parametrize("locale_id", TRANSLATED)
def test_dates_are_formatted_for_the_locale(locale_id: str) -> None:
    from babel.dates import format_date

    request = dn_docs.parse_request(rich_request(locale_id, "consent"))
    expected = format_date(request.session.date, format="long", locale=locale_id)
    text = rendered(locale_id, "consent").text
    # Text extraction may put a right-to-left date's parts in visual order, so look for
    # each part of the date rather than the whole string.
    assert all(part in text for part in expected.split()), (expected, text[:300])


def test_catalogs_are_real_translations_not_the_english_fallback() -> None:
    for locale_id in TRANSLATED:
        translations = locales.load_translations(locale_id)
        assert translations.gettext("Consent to dry needling") != "Consent to dry needling"
        assert locales.catalog_version(locale_id).startswith(locale_id)
