"""Signature pages and phone numbers print right in every language and edition.

Read back from the PDFs: the consent statements and every signature block share one
page, and a phone number is printed whole on one line, left to right, on every page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import weasyprint
from helpers import Pdf, make_request

import dn_docs
from dn_docs import locales
from dn_docs.batch.inputs import merge_defaults
from dn_docs.examples import example_request
from dn_docs.pdf import default_renderer

PHONE = "+1 207 555 0142"
NAME_LENGTHS = (1, 40, 120)
EDITIONS = {
    "plain": {},
    "large-print": {"large_print": True},
    "bilingual": {"bilingual": True},
}


def name_of_length(locale_id: str, length: int) -> str:
    """The locale's example name, repeated or cut to ``length`` characters."""
    name = example_request(locale_id)["patient"]["name"]
    repeated = " ".join([name] * (length // len(name) + 1))
    return repeated[:length].strip() or name[0]


def sweep_request(locale_id: str, edition: str, length: int, **extra: Any) -> dict:
    """A consent of the sweep; ``extra`` adds request fields (a minor's birth date, …)."""
    clinic: dict = {"phone": PHONE}
    if edition == "bilingual":
        clinic["language"] = "es" if locale_id == "en" else "en"
    data = make_request(
        locale_id,
        patient={"name": name_of_length(locale_id, length)},
        clinic=clinic,
        options=EDITIONS[edition],
    )
    return merge_defaults(data, extra)


def signature_problems(pdf: Pdf) -> list[str]:
    """Where a page holds a signature block but not the consent statements."""
    pairs = pdf.signature_pages()
    problems = [
        f"a signature block on pages {sorted(block)}, its statements on {sorted(statements)}"
        for statements, block in pairs
        if len(statements) != 1 or block != statements
    ]
    if len(pairs) < 3:
        problems.append(f"only {len(pairs)} signature blocks")
    return problems


def phone_problems(pdf: Pdf, phone: str) -> list[str]:
    """Lines that hold the start or the end of ``phone`` without the whole number, in
    order. (A line's text reads back in the order it is drawn, left to right.)"""
    whole = phone.replace(" ", "")
    head, tail = whole[:5], whole[-4:]
    problems = []
    for page, text in enumerate(pdf.page_texts(), start=1):
        for line in text.splitlines():
            flat = line.replace(" ", "")
            if not flat.count(head) == flat.count(tail) == flat.count(whole):
                problems.append(f"page {page}: {line.strip()[:80]!r}")
    return problems


def phones_printed(pdf: Pdf, phone: str) -> int:
    return pdf.text.replace(" ", "").count(phone.replace(" ", ""))


@pytest.mark.parametrize("edition", list(EDITIONS))
@pytest.mark.parametrize("locale_id", sorted(locales.SUPPORTED))
def test_signatures_share_the_statements_page_and_phone_numbers_stay_whole(
    locale_id: str, edition: str
) -> None:
    problems = []
    for length in NAME_LENGTHS:
        data = sweep_request(locale_id, edition, length)
        pdf = Pdf(dn_docs.render_pdf(data))
        found = signature_problems(pdf) + phone_problems(pdf, PHONE)
        # In the header of every page, the facts table and the clinic's phone line.
        if phones_printed(pdf, PHONE) < pdf.pages + 2:
            found.append(f"the phone number is printed {phones_printed(pdf, PHONE)} times")
        problems += [f"name of {length}: {problem}" for problem in found]
    assert not problems, problems


def born_years_ago(years: int) -> str:
    session = dt.date.today() + dt.timedelta(days=1)  # the example session date
    return session.replace(year=session.year - years).isoformat()


@pytest.mark.parametrize("locale_id", sorted(locales.SUPPORTED))
def test_a_minors_consent_and_a_large_print_bilingual_one_sign_under_the_statements(
    locale_id: str,
) -> None:
    """More blocks than one page holds: the practitioner, witness and interpreter sign on a
    page of their own, under the statements printed again."""
    minor = {"patient": {"date_of_birth": born_years_ago(16)}, "clinic": {"country": "US"}}
    requests = [
        merge_defaults(sweep_request(locale_id, "large-print", 120), minor),
        merge_defaults(sweep_request(locale_id, "bilingual", 120), minor),
        merge_defaults(
            sweep_request(locale_id, "bilingual", 40), {"options": {"large_print": True}}
        ),
    ]
    for data in requests:
        pdf = Pdf(dn_docs.render_pdf(data))
        assert not signature_problems(pdf), (data["options"], signature_problems(pdf))
        pairs = pdf.signature_pages()
        # Two pages of signatures, each with its own copy of the statements.
        statements = {min(statement_pages) for statement_pages, _ in pairs}
        assert len(statements) == 2 and len(pairs) >= 4, pairs


def _render_html(html: str) -> Pdf:
    renderer = default_renderer()
    return Pdf(
        weasyprint.HTML(
            string=html, base_url=renderer.base_url, url_fetcher=renderer.fetcher
        ).write_pdf(
            stylesheets=[renderer.stylesheet], font_config=renderer.font_config, pdf_tags=True
        )
    )


@pytest.mark.parametrize("locale_id", ["ar", "en"])
def test_the_checks_see_split_or_reversed_phone_numbers_and_lone_signature_blocks(
    locale_id: str,
) -> None:
    data = sweep_request(locale_id, "plain", 40)
    html = dn_docs.render_html(data)
    assert not phone_problems(_render_html(html), PHONE)
    # Without its left-to-right isolate and free to wrap, in boxes too narrow for it, a
    # phone number breaks (and on a right-to-left page its groups run right to left).
    loose = html.replace('<span class="phone">\u2066', '<span class="loose">').replace(
        "</head>",
        "<style>.loose { display: inline-block; width: 2.2em; } "
        ".signatures { break-inside: auto; } .signature { break-before: page; }</style></head>",
    )
    broken = _render_html(loose)
    assert phone_problems(broken, PHONE)
    assert signature_problems(broken)
    assert not signature_problems(_render_html(html))


@pytest.mark.parametrize("locale_id", ["ar", "he", "hi", "zh_Hant"])
def test_phone_numbers_stay_whole_in_the_aftercare_and_the_language_help_notice(
    locale_id: str,
) -> None:
    data = make_request(
        locale_id,
        kind="aftercare",
        clinic={"phone": PHONE},
        options={"language_assistance": True, "large_print": True},
    )
    pdf = Pdf(dn_docs.render_pdf(data))
    assert not phone_problems(pdf, PHONE)
    # Every page's header, the clinic's phone line and the notice in 18 languages.
    assert phones_printed(pdf, PHONE) >= pdf.pages + 1 + len(locales.SUPPORTED)
