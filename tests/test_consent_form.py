"""The consent form a clinic can adopt, read back from the PDF: the health questions on
paper (answered or to fill in), every seed risk, the other choices, what the consent
covers and how to withdraw it, in every language; blank forms from a batch."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from batch_support import clinic_defaults
from helpers import Pdf, make_request, squash

import dn_docs
from dn_docs import locales
from dn_docs.batch import LocalDispatcher, run_batch
from dn_docs.content import Category, select

BOX = "☐"
RULES = (
    "If you answer yes to any of questions 1 to 3, dry needling will not be done today.",
    "If you answer yes to any of questions 4 to 9, tell your practitioner. Dry needling may "
    "still be done, but they will take special care.",
)
ASK = "Do any of these apply to you? Tick Yes or No for each one."


def blank(**changes: Any) -> dict[str, Any]:
    """A consent request without screening answers: the patient answers at the desk."""
    data = make_request(**changes)
    del data["screening"]
    return data


def questions(data: dict[str, Any]) -> list[str]:
    return [a.item.text for a in select(dn_docs.parse_request(data)).questions]


def relative(data: dict[str, Any]) -> list[str]:
    selection = select(dn_docs.parse_request(data))
    return [item.text for item in selection.of(Category.CONTRAINDICATION_RELATIVE)]


def test_a_consent_without_answers_asks_all_nine_questions_with_empty_boxes(render) -> None:
    data = blank()
    pdf = render(data)
    text = squash(pdf.text)
    rows = questions(data)
    assert len(rows) == 9
    for number, row in enumerate(rows, start=1):
        # Each numbered question, followed by its two empty boxes.
        assert squash(f"{number}. {row} {BOX} Yes {BOX} No") in text, row
    assert text.count(BOX) == 18
    assert pdf.contains(ASK)
    assert all(pdf.contains(rule) for rule in RULES)
    assert pdf.contains("Practitioner: I talked with the patient about each yes answer.")
    assert squash("Your initials") not in text


def test_a_consent_with_answers_prints_every_answer_to_be_initialled(render) -> None:
    answers = {"pregnant": True, "blood_thinners": True}
    data = make_request(screening=answers)
    pdf = render(data)
    text = squash(pdf.text)
    expected = ["No"] * 3 + ["Yes", "No", "No", "No", "Yes", "No"]
    for number, (row, answer) in enumerate(zip(questions(data), expected, strict=True), 1):
        assert squash(f"{number}. {row} {answer} Your initials:") in text, row
    assert BOX + "Yes" not in text
    assert pdf.contains("Your answers are printed below.")
    assert all(pdf.contains(rule) for rule in RULES)
    # The two answered yes are listed again for the practitioner to initial.
    assert pdf.contains("Precautions discussed")
    assert text.count(squash("Practitioner's initials")) == 2


@pytest.mark.parametrize("answered", [True, False], ids=["answered", "blank"])
def test_every_consent_explains_the_six_relative_contraindications(render, answered) -> None:
    data = make_request() if answered else blank()
    pdf = render(data)
    explained = relative(data)
    assert len(explained) == 6
    assert all(pdf.contains(text) for text in explained), explained
    assert pdf.contains(RULES[1])


def test_an_absolute_contraindication_still_refuses_the_consent() -> None:
    with pytest.raises(dn_docs.ConsentRefusedError, match="needle phobia"):
        dn_docs.render_pdf(make_request(screening={"needle_phobia": True}))


def test_a_batch_without_screening_columns_renders_blank_consents(tmp_path: Path) -> None:
    source = tmp_path / "tomorrow.csv"
    born = ["1980-04-02", "1975-11-30", "2001-06-15"]
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kind", "locale", "patient.name", "patient.date_of_birth", "session.date",
                         "session.areas"])  # fmt: skip
        for number, (locale_id, day) in enumerate(zip(["en", "es", "ar"], born, strict=True)):
            writer.writerow(["consent", locale_id, f"Patient {number}", day, "2026-12-01",
                             "lower_back;gluteal"])  # fmt: skip
    out = tmp_path / "out"
    summary = run_batch(source, out, LocalDispatcher(workers=1), clinic_defaults())
    assert (summary.done, summary.failed, summary.invalid_rows) == (3, 0, 0)
    entries = json.loads((out / "manifest.json").read_text())["documents"]
    assert [e["kind"] for e in entries] == ["consent"] * 3
    for entry in entries:
        pdf = Pdf((out / entry["file"]).read_bytes())
        assert squash(pdf.text).count(BOX) == 18, entry["file"]
        tick = locales.load_translations(entry["locale"]).gettext(ASK)
        assert pdf.pages_with(tick), entry["file"]


def test_a_lower_back_consent_names_the_collapsed_lung_and_a_neck_consent_boxes_it(render):
    lung = "A collapsed lung. Doctors call this a pneumothorax."
    lower_back = render(session={"areas": ["lower_back"]})
    assert lower_back.contains(lung)
    assert lower_back.contains("on or near the chest, back, shoulders or neck")
    neck = render(session={"areas": ["neck"]})
    first_page = squash(neck.page_texts()[0])
    assert squash("Important: risk of a collapsed lung") in first_page
    assert squash(lung) in first_page
    # A knee consent still lists the risk among the rare ones, without the box.
    knee = render(session={"areas": ["knee"]})
    assert knee.contains(lung) and not knee.contains("Important: risk of a collapsed lung")


def test_the_aftercares_first_box_gives_the_action_and_the_emergency_number(render) -> None:
    pdf = render(kind="aftercare", session={"areas": ["upper_back"]}, clinic={"country": "GB"})
    first_page = squash(pdf.page_texts()[0])
    box = first_page.index(squash("Important: risk of a collapsed lung"))
    action = first_page.index(squash("Call the emergency number if you have:"), box)
    signs = first_page.index(squash("Shortness of breath or trouble breathing"), action)
    number = first_page.index(squash("Emergency number: 999"), signs)
    assert number < first_page.index(squash("What is normal"))


def test_seed_facts_lost_before_are_printed(render) -> None:
    pdf = render(session={"areas": ["forearm_wrist"], "condition": "carpal_tunnel"})
    for sentence in (
        "When it happens, it is usually because the needle was not used the right way.",
        "How deep the needle goes, its angle and the spot where it goes in all matter.",
        "Nerves are not in exactly the same place in every body.",
        "For nerve pain, the evidence is mixed.",
        "Your safety depends on their training and skill.",
    ):
        assert pdf.contains(sentence), sentence
    text = squash(pdf.text)
    common = text.index(squash("Common side effects"))
    other = text.index(squash("Other possible side effects"))
    # Fatigue and lightheadedness are not printed as common.
    assert common < other < text.index(squash("Feeling tired or lightheaded"))


def test_the_practitioners_own_training_is_printed_when_given(render) -> None:
    line = "Certified in dry needling, 54-hour course, 2019"
    pdf = render(practitioner={"dry_needling_training": line})
    assert pdf.contains(f"Your practitioner's dry needling training: {line}")
    assert not render().contains("Your practitioner's dry needling training")


ALTERNATIVES = (
    "Dry needling is one option. It is often used together with other treatments. Ask your "
    "practitioner about other ways to treat your problem.",
    "You can choose not to have dry needling, or to have no treatment at all.",
)
WITHDRAWAL = (
    "You can change your mind at any time, even during a session. Just tell your "
    "practitioner. Saying no or stopping will not affect the rest of your care here.",
    "I know that I can change my mind and stop at any time, and that this will not affect "
    "my other care.",
)


@pytest.mark.parametrize("locale_id", sorted(locales.SUPPORTED))
def test_alternatives_scope_and_withdrawal_in_every_locale(locale_id: str) -> None:
    data = blank(locale=locale_id)
    document = dn_docs.render_document(data)
    pdf = Pdf(document.pdf)
    gettext = locales.load_translations(locale_id).gettext
    day = long_date(locale_id, document.composed.request.session.date)
    scope = gettext("This consent is for the dry needling session on %(day)s only.")
    for sentence in (*map(gettext, ALTERNATIVES + WITHDRAWAL), scope % {"day": day}):
        assert pdf.pages_with(sentence), (locale_id, sentence)
    if locale_id != "en":
        assert gettext(ALTERNATIVES[0]) != ALTERNATIVES[0]


def long_date(locale_id: str, day: dt.date) -> str:
    return format_date(day, format="long", locale=locales.get(locale_id).babel)


COURSE = (
    "This consent is for a course of dry needling of up to %(num)s session, starting on %(day)s.",
    "This consent is for a course of dry needling of up to %(num)s sessions, starting on %(day)s.",
)


@pytest.mark.parametrize(
    ("locale_id", "sessions", "form"),
    [("en", 1, "session,"), ("en", 6, "sessions,"), ("ru", 1, "сеанса,"), ("ru", 5, "сеансов,"),
     ("ar", 2, "جلستين"), ("ar", 6, "جلسات"), ("pl", 3, "sesje,"), ("pl", 12, "sesji,")],
)  # fmt: skip
def test_a_course_of_sessions_prints_the_plural_form_of_its_number(
    locale_id: str, sessions: int, form: str
) -> None:
    data = blank(locale=locale_id, session={"scope": {"sessions": sessions}})
    document = dn_docs.render_document(data)
    start = long_date(locale_id, document.composed.request.session.date)
    expected = locales.load_translations(locale_id).ngettext(*COURSE, sessions) % {
        "num": sessions,
        "day": start,
    }
    assert form in expected
    assert Pdf(document.pdf).pages_with(expected)


def test_a_course_until_a_date_and_one_with_both_limits(render) -> None:
    start = dt.date.today() + dt.timedelta(days=1)
    end = start + dt.timedelta(days=56)
    until = render(session={"scope": {"until": end.isoformat()}})
    assert until.contains(
        f"This consent is for a course of dry needling from {long_date('en', start)} to "
        f"{long_date('en', end)}."
    )
    both = render(session={"scope": {"until": end.isoformat(), "sessions": 8}})
    assert both.contains(
        f"up to 8 sessions, starting on {long_date('en', start)}. The course ends on "
        f"{long_date('en', end)} at the latest."
    )
    assert not both.contains("session on")
