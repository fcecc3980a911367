"""Language access: negotiation, catalog checks, bilingual and large-print editions,
the language-help notice, CJK line breaking and plain-language reading level."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner
from helpers import Pdf, make_request, squash
from markupsafe import escape

import dn_docs
from dn_docs import RequestError, catalogs, locales, parse_request, resources
from dn_docs.cli import main
from dn_docs.compose import translation_note
from dn_docs.content import ITEMS
from dn_docs.content.readability import OVERALL_LIMIT, SECTION_LIMIT, scores

# Negotiation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("es-MX", "es"),
        ("zh-TW", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("zh-Hant", "zh_Hant"),
        ("pt", "pt_BR"),
        ("pt-PT", "pt_BR"),
        ("fil", "tl"),
        ("fil-PH", "tl"),
        ("he-IL", "he"),
        ("fa-IR", "fa"),
        ("ko-KR", "ko"),
        ("ja", "ja"),
    ],
)
def test_language_tags_negotiate_to_shipped_catalogs(tag: str, expected: str) -> None:
    assert locales.negotiate(tag) == expected


def test_unsupported_language_lists_the_supported_ones() -> None:
    with pytest.raises(RequestError) as caught:
        parse_request(make_request(locale="sw"))
    message = str(caught.value)
    assert message.startswith("locale: 'sw' is not a supported language")
    assert all(loc in message for loc in locales.SUPPORTED)


def test_eighteen_locales_ship() -> None:
    assert len(locales.SUPPORTED) == 18
    assert {loc for loc, d in locales.SUPPORTED.items() if d == "rtl"} == {"ar", "fa", "he"}


# Catalog checks ---------------------------------------------------------------------


def test_locales_check_passes_on_the_shipped_catalogs() -> None:
    result = CliRunner().invoke(main, ["locales", "check"])
    assert result.exit_code == 0, result.output
    assert "17 catalogs complete and current" in result.output


@pytest.fixture
def broken_copy(tmp_path: Path):
    """A copy of the Spanish catalog to break in one way, checked against the real template."""
    shutil.copytree(resources.locales_dir() / "es", tmp_path / "es")
    po = tmp_path / "es" / "LC_MESSAGES" / "messages.po"
    with (resources.locales_dir() / "messages.pot").open("rb") as handle:
        template = read_po(handle)

    def check(edit) -> list[str]:
        po.write_text(edit(po.read_text(encoding="utf-8")), encoding="utf-8")
        return catalogs.check_catalog("es", template, folder=tmp_path).problems

    return check


def _replace_msgstr(text: str, msgid: str, new: str) -> str:
    pattern = re.compile(rf'(msgid "{re.escape(msgid)}"\nmsgstr )"[^\n]*"')
    assert pattern.search(text), msgid
    return pattern.sub(lambda m: m.group(1) + new, text, count=1)


def test_check_passes_the_unbroken_copy(broken_copy) -> None:
    assert broken_copy(lambda text: text) == []


def test_check_fails_on_a_missing_translation(broken_copy) -> None:
    problems = broken_copy(lambda t: _replace_msgstr(t, "Chest pain", '""'))
    assert any(p.startswith("untranslated: 'Chest pain'") for p in problems)


def test_check_fails_on_a_fuzzy_entry(broken_copy) -> None:
    problems = broken_copy(
        lambda t: t.replace('msgid "Chest pain"', '#, fuzzy\nmsgid "Chest pain"')
    )
    assert any(p.startswith("fuzzy: 'Chest pain'") for p in problems)


def test_check_fails_on_a_broken_placeholder(broken_copy) -> None:
    problems = broken_copy(
        lambda t: _replace_msgstr(t, "Page {page} of {pages}", '"Página {pagina} de {pages}"')
    )
    assert any("placeholders differ" in p for p in problems)


def test_check_fails_on_wrong_plural_forms(broken_copy) -> None:
    problems = broken_copy(
        lambda t: re.sub(r"nplurals=\d+; plural=[^\\]*;", "nplurals=1; plural=0;", t)
    )
    assert any("nplurals=" in p for p in problems)


def test_check_fails_on_a_missing_message_and_a_stale_one(broken_copy) -> None:
    problems = broken_copy(lambda t: t.replace('msgid "Chest pain"', 'msgid "Chest ache"'))
    assert any(p.startswith("missing: 'Chest pain'") for p in problems)
    assert any(p.startswith("stale (not in messages.pot): 'Chest ache'") for p in problems)


def test_check_fails_when_not_compiled_or_english_fallback(broken_copy, tmp_path: Path) -> None:
    (tmp_path / "es" / "LC_MESSAGES" / "messages.mo").unlink(missing_ok=True)
    assert any("not compiled" in p for p in broken_copy(lambda t: t))
    shutil.copy(resources.locales_dir() / "es" / "LC_MESSAGES" / "messages.po", tmp_path / "x.po")
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    with (tmp_path / "es" / "LC_MESSAGES" / "messages.mo").open("wb") as handle:
        write_mo(handle, Catalog(locale="es"))  # a compiled catalog with no translations
    assert any("falls back to English" in p for p in broken_copy(lambda t: t))


def test_check_fails_without_a_translation_version(broken_copy) -> None:
    problems = broken_copy(lambda t: re.sub(r"# Translation-Version: [^\n]*\n", "", t))
    assert any("Translation-Version" in p for p in problems)


def test_extraction_is_current() -> None:
    assert catalogs.extraction_is_current() == []


def test_footer_names_the_translation_version_and_its_review_in_plain_words() -> None:
    pdf = Pdf(dn_docs.render_pdf(make_request("es")))
    version = locales.catalog_version("es")
    assert version.startswith("es-") and "draft" in locales.catalog_header("es")["review-status"]
    stamp = f"Traducción {version}: borrador, aún no revisado por un traductor médico"
    assert all(squash(stamp) in squash(text) for text in pdf.page_texts())
    english = Pdf(dn_docs.render_pdf(make_request("en")))
    assert squash("Original English text, not a translation") in squash(english.page_texts()[0])
    assert "Translation source" not in english.text


def test_a_reviewed_catalog_is_stamped_as_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    header = dict(locales.catalog_header("de"))
    assert translation_note("de").endswith("noch nicht von einer medizinischen "
                                           "Übersetzungsfachkraft geprüft")  # fmt: skip
    header["review-status"] = "reviewed by a qualified medical translator, 2026-12-01"
    monkeypatch.setattr(locales, "catalog_header", lambda locale_id: header)
    assert translation_note("de") == (
        f"Übersetzung {header['translation-version']}: von einer medizinischen "
        "Übersetzungsfachkraft geprüft"
    )


# Editions ---------------------------------------------------------------------------


def _english(text_id: str) -> str:
    return next(i.text for i in ITEMS if i.id == text_id)


@pytest.mark.parametrize("locale_id", ["es", "ar"])
def test_bilingual_consent_prints_both_languages_section_by_section(locale_id: str) -> None:
    data = make_request(
        locale_id,
        clinic={"language": "en"},
        options={"bilingual": True},
        session={"areas": ["neck"], "condition": "neck_pain"},
    )
    html = dn_docs.render_html(data)
    pdf = Pdf(dn_docs.render_pdf(data))
    translated = locales.load_translations(locale_id).gettext
    for item_id in ("about.what", "side_effect.soreness", "risk.collapsed_lung"):
        english = _english(item_id)
        # Text extraction maps a mirrored bracket glyph of a right-to-left run to the
        # other bracket, so brackets are left out of the comparison.
        assert pdf.contains(english.translate({ord("("): None, ord(")"): None})) or pdf.contains(
            english
        ), item_id
        assert squash(translated(english)) in squash(dn_docs.render_document(data).composed.text)
        # Section by section: the English follows its translation, not a whole document later.
        assert 0 < html.index(english) - html.index(translated(english)) < 6000
    assert html.count('class="second-language" lang="en" dir="ltr"') >= 6
    # What is filled in and signed is printed once, each text in both languages.
    assert html.count('<section class="signatures">') == 1
    assert html.count('<section class="screening">') == 1
    ((signature_page,), _) = pdf.signature_pages()[0]
    for message in BILINGUAL_ON_THE_SIGNATURE_PAGE:
        for text in (translated(message), message):
            assert signature_page in pdf.pages_with(text), (locale_id, text)
        # The clinic's language right after the patient's.
        assert html.index(escape(message)) - html.index(escape(translated(message))) < 400
    single = Pdf(
        dn_docs.render_pdf(
            make_request(
                locale_id,
                clinic={"language": "en"},
                session={"areas": ["neck"], "condition": "neck_pain"},
            )
        )
    )
    assert single.pages < pdf.pages <= 2 * single.pages + 1
    assert pdf.lang == locale_id.replace("_", "-")


#: The consent statements and the signature labels.
BILINGUAL_ON_THE_SIGNATURE_PAGE = (
    "Your consent",
    "I have read this form, or it was read to me, in a language I understand.",
    "I was able to ask questions, and my questions were answered.",
    "I know that I can change my mind and stop at any time, and that this will not affect "
    "my other care.",
    "I agree to have dry needling.",
    "Patient's signature",
    "Practitioner's signature",
    "Witness's signature",
    "Interpreter's signature",
    "Printed name",
)


def test_bilingual_with_the_same_language_is_one_language() -> None:
    data = make_request("es", options={"bilingual": True})
    assert 'class="second-language"' not in dn_docs.render_html(data)


def test_large_print_aftercare_is_readable_and_not_too_long() -> None:
    normal = Pdf(dn_docs.render_pdf(make_request(kind="aftercare")))
    large = Pdf(dn_docs.render_pdf(make_request(kind="aftercare", options={"large_print": True})))
    # The running header and footer stamp repeat on every page in small print by design.
    per_page = [{f.text.strip() for f in large.fragments(page)} for page in range(large.pages)]
    furniture = set.intersection(*per_page)
    fragments = [
        f
        for f in large.fragments()
        if f.text.strip() not in furniture and not re.fullmatch(r"Page \d+ of \d+", f.text.strip())
    ]
    large_chars = sum(len(f.text) for f in fragments if f.size * 0.75 >= 15.95)
    share = large_chars / sum(len(f.text) for f in fragments)
    assert share >= 0.97, f"only {share:.0%} of the body text is at 16 pt or more"
    assert normal.pages < large.pages <= 2 * normal.pages + 1


def _furniture_sizes(pdf: Pdf) -> dict[str, float]:
    """The size in points of the running header, footer stamp and page number on page 1."""
    sizes: dict[str, float] = {}
    for fragment in pdf.fragments(0):
        for part, marker in (("header", "Riverside"), ("stamp", "Content"), ("page", "Page 1")):
            if marker in fragment.text:
                sizes[part] = fragment.size * 0.75
    return sizes


def test_large_print_enlarges_the_running_header_and_footer() -> None:
    normal = _furniture_sizes(Pdf(dn_docs.render_pdf(make_request())))
    large = _furniture_sizes(Pdf(dn_docs.render_pdf(make_request(options={"large_print": True}))))
    assert set(normal) == set(large) == {"header", "stamp", "page"}
    assert large["header"] >= 13.9 and large["stamp"] >= 11.9 and large["page"] >= 11.9
    assert all(large[part] > normal[part] * 1.5 for part in normal)


def test_language_help_notice_in_every_language_and_script() -> None:
    data = make_request(kind="aftercare", options={"language_assistance": True})
    html = dn_docs.render_html(data)
    pdf = Pdf(dn_docs.render_pdf(data))
    for locale_id, direction in locales.SUPPORTED.items():
        lang = locale_id.replace("_", "-")
        assert f'<p lang="{lang}" dir="{direction}">' in html
    fonts = " ".join(pdf.fonts())
    for script in ("Arabic", "Hebrew", "Devanagari", "CJK"):
        assert script in fonts
    assert pdf.contains("Free help in your language is available.")
    assert pdf.contains(
        locales.load_translations("es")
        .gettext(
            "Free help in your language is available. Ask the clinic staff, or call %(phone)s."
        )
        .split("%(phone)s")[0]
    )


def test_cjk_lines_never_start_with_closing_punctuation() -> None:
    for locale_id in ("zh_Hans", "zh_Hant", "ja"):
        pdf = Pdf(dn_docs.render_pdf(make_request(locale_id)))
        lines = [
            line.strip() for text in pdf.page_texts() for line in text.splitlines() if line.strip()
        ]
        bad = [line for line in lines if line[0] in "，。、：；）」』！？"]
        assert not bad, (locale_id, bad[:3])


# Plain language -------------------------------------------------------------------


def test_reading_level(capsys) -> None:
    form = CliRunner().invoke(main, ["content", "readability"])
    sections, overall = scores()
    with capsys.disabled():
        print("\n" + form.output)
    assert form.exit_code == 0, form.output
    assert all(s.grade <= SECTION_LIMIT for s in sections), [(s.section, s.grade) for s in sections]
    assert overall <= OVERALL_LIMIT


@pytest.mark.parametrize(
    ("term", "explanation"),
    [
        ("trigger point", "tight, tender knot"),
        ("twitch response", "twitch on its own"),
        ("pneumothorax", "collapsed lung"),
        ("neuropathy", "nerve damage"),
    ],
)
def test_technical_words_are_explained_where_they_first_appear(term: str, explanation: str) -> None:
    data = make_request(session={"areas": ["chest"], "condition": "peripheral_neuropathy"})
    text = dn_docs.render_document(data).composed.text
    first = text.lower().index(term)
    window = text[max(0, first - 250) : first + 250].lower()
    assert explanation in window, (term, window)
