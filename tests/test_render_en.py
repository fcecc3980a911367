"""English documents, read back from the PDF: content, rules, layout facts and metadata."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt

import pytest
from helpers import Pdf, make_request, squash

import dn_docs
from dn_docs import ConsentRefusedError, MissingGlyphError, glyphs, parse_request
from dn_docs.compose import compose
from dn_docs.content import ITEMS, select
from dn_docs.pdf import default_renderer

# Requests that, between them, make every catalog item apply to some document.
COVERAGE = [
    make_request(
        kind="consent",
        session={
            "areas": ["neck", "upper_back", "gluteal", "forearm_wrist"],
            "electrical_stimulation": True,
            "condition": "sciatica",
        },
        screening={"pregnant": True, "immunocompromised": True, "lymphedema": True},
    ),
    make_request(
        kind="consent",
        session={"areas": ["shoulder", "hand"], "condition": "carpal_tunnel"},
        screening={"pacemaker_or_implant": True, "blood_thinners": True, "bleeding_disorder": True},
    ),
    make_request(kind="consent", session={"areas": ["foot"], "condition": "peripheral_neuropathy"}),
    make_request(
        kind="aftercare",
        session={"areas": ["chest", "thigh"], "electrical_stimulation": True},
        screening={"pregnant": True},
    ),
]


@pytest.mark.parametrize("number", range(len(COVERAGE)))
def test_every_applicable_item_is_printed(render, number: int) -> None:
    data = COVERAGE[number]
    pdf = render(data)
    expected = select(parse_request(data)).items
    missing = [item.id for item in expected if not pdf.contains(item.text)]
    assert not missing, f"not in the PDF: {missing}"
    not_expected = [item for item in ITEMS if item not in expected]
    printed_anyway = [item.id for item in not_expected if pdf.contains(item.text)]
    assert not printed_anyway, f"printed though it does not apply: {printed_anyway}"


def test_coverage_requests_use_every_item() -> None:
    used = {item.id for data in COVERAGE for item in select(parse_request(data)).items}
    assert used == {item.id for item in ITEMS}


def test_neck_and_upper_back_state_the_collapsed_lung_risk_prominently(render) -> None:
    pdf = render(session={"areas": ["neck", "upper_back"]})
    first_page = squash(pdf.page_texts()[0])
    assert squash("Important: risk of a collapsed lung") in first_page
    assert squash("A collapsed lung. Doctors call this a pneumothorax.") in first_page
    callout = [f for f in pdf.fragments(page=0) if "collapsed lung" in f.text]
    assert any("Bold" in f.font for f in callout), "the warning is not in bold"
    assert pdf.contains("The neck and upper back have many nerves close together")


def test_gluteal_sciatica_names_the_sciatic_nerve_and_the_evidence(render) -> None:
    pdf = render(session={"areas": ["gluteal"], "condition": "sciatica"})
    assert pdf.contains("The sciatic nerve, a large nerve to the leg")
    assert pdf.contains("Dry needling treats muscles. It does not repair damaged nerves.")
    assert pdf.contains("not a replacement for it")
    # Away from the torso the risk is listed, but not in a box at the top.
    assert pdf.contains("A collapsed lung. Doctors call this a pneumothorax.")
    assert not pdf.contains("Important: risk of a collapsed lung")


def test_pregnant_patient_on_blood_thinners_gets_both_precautions(render) -> None:
    pdf = render(screening={"pregnant": True, "blood_thinners": True})
    assert pdf.contains("Precautions discussed")
    text = squash(pdf.text)
    # Listed with the other four among the health questions, and again to be initialled.
    assert text.count(squash("Being pregnant")) == 2
    assert text.count(squash("Taking medicine that thins the blood (a blood thinner)")) == 2
    assert text.count(squash("A bleeding disorder, which makes you bleed more easily")) == 1
    assert text.count(squash("Practitioner's initials")) == 2


def test_local_infection_refuses_the_consent() -> None:
    with pytest.raises(ConsentRefusedError, match="local infection"):
        dn_docs.render_pdf(make_request(screening={"local_infection": True}))


GUARDIAN = "I am the patient's parent or legal guardian and I agree on their behalf."
MINOR = "Dry needling was explained to me in a way I understand, and I agree to have it."


def _sixteen() -> str:
    session = dt.date.today() + dt.timedelta(days=1)
    return (session - dt.timedelta(days=16 * 365 + 10)).isoformat()


def test_a_us_sixteen_year_old_has_guardian_and_minor_lines(render) -> None:
    pdf = render(patient={"date_of_birth": _sixteen()}, clinic={"country": "US"})
    assert pdf.contains("The patient is under 18. " + GUARDIAN)
    assert pdf.contains("Guardian's signature")
    assert pdf.contains(MINOR)
    assert pdf.contains("Patient's signature")
    adult = render()
    assert not adult.contains(GUARDIAN) and not adult.contains(MINOR)


def test_a_gb_sixteen_year_old_signs_for_themself(render) -> None:
    pdf = render(patient={"date_of_birth": _sixteen()}, clinic={"country": "GB"})
    assert pdf.contains("Patient's signature")
    assert not pdf.contains("Guardian's signature")
    assert not pdf.contains(GUARDIAN) and not pdf.contains(MINOR)
    # A clinic that keeps 18 gets the guardian's block back.
    kept = render(
        patient={"date_of_birth": _sixteen()}, clinic={"country": "GB", "guardian_age": 18}
    )
    assert kept.contains("The patient is under 18. " + GUARDIAN) and kept.contains(MINOR)


def test_signature_lines_for_patient_practitioner_and_witness(render) -> None:
    pdf = render()
    for label in ("Patient's signature", "Practitioner's signature", "Witness's signature"):
        assert pdf.contains(label)
    assert not pdf.contains("Interpreter's signature")


def test_interpreter_block_when_document_language_differs(render) -> None:
    pdf = render(clinic={"language": "es"})
    assert pdf.contains("Interpreter's signature")
    assert pdf.contains("I interpreted this form between Spanish and English.")


def test_header_and_footer_on_every_page(render) -> None:
    pdf = render(
        session={
            "areas": ["neck", "gluteal"],
            "condition": "sciatica",
            "electrical_stimulation": True,
        },
        screening={"pregnant": True},
    )
    assert pdf.pages >= 2
    for number, text in enumerate(pdf.page_texts(), start=1):
        flat = squash(text)
        assert squash("Jordan Avery") in flat
        assert "DEMO-0001" in flat
        assert squash(f"Page {number} of {pdf.pages}") in flat
        assert (
            squash(f"Content {dn_docs.CATALOG_VERSION}") in flat
            and squash("Original English text, not a translation") in flat
            and squash("Translation source") not in flat
        )


def test_footer_hash_is_the_hash_of_the_document_text() -> None:
    document = dn_docs.render_document(make_request())
    assert len(document.composed.text_hash) == 64
    assert document.composed.text_hash[:12] in Pdf(document.pdf).text
    other = dn_docs.render_document(make_request(patient={"name": "Someone Else"}))
    assert other.composed.text_hash != document.composed.text_hash


def test_metadata_title_language_author(render) -> None:
    pdf = render()
    meta = pdf.metadata
    assert meta["/Title"].startswith("Consent to dry needling")
    assert meta["/Author"] == "Riverside Physical Therapy"
    assert pdf.lang == "en"


@pytest.mark.parametrize(
    ("country", "size"),
    [("US", (612, 792)), ("CA", (612, 792)), ("GB", (595, 842)), ("DE", (595, 842))],
)
def test_paper_size_follows_the_country(render, country: str, size: tuple[int, int]) -> None:
    assert render(clinic={"country": country}).page_size == size


@pytest.mark.parametrize(
    ("country", "number"),
    [("US", "911"), ("GB", "999"), ("FR", "112"), ("AU", "000"), ("JP", "119")],
)
def test_emergency_number_follows_the_country(render, country: str, number: str) -> None:
    pdf = render(kind="aftercare", clinic={"country": country})
    assert squash(f"Emergency number: {number}") in squash(pdf.text)


def test_markup_in_names_is_printed_literally(render) -> None:
    name = "<b>Bo</b> <script>x()</script> {{ 7*7 }} {% if 1 %}"
    pdf = render(patient={"name": name})
    assert squash(name) in squash(pdf.text)
    assert "49" not in pdf.text
    html = dn_docs.render_html(make_request(patient={"name": name}))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_large_print_body_is_at_least_16pt(render) -> None:
    normal = render()
    large = render(options={"large_print": True})
    body_sizes = sorted(f.size for f in large.fragments() if len(f.text) > 40)
    median_px = body_sizes[len(body_sizes) // 2]
    assert median_px * 0.75 >= 15.95, f"median body text is {median_px * 0.75:.1f}pt"
    assert large.pages > normal.pages


def test_fonts_are_embedded_noto(render) -> None:
    assert any(name.startswith("Noto-Sans") for name in render().fonts())


def test_a_character_no_font_has_is_refused_as_input() -> None:
    # U+E000 is in the Private Use Area: no installed font draws it.
    with pytest.raises(dn_docs.RequestError, match=r"patient.name: .*U\+E000"):
        dn_docs.render_pdf(make_request(patient={"name": "Ann \ue000 Lee"}))


def test_every_printable_ascii_character_is_in_the_installed_fonts() -> None:
    """What lets ASCII text skip the font check."""
    starts, ends = glyphs._coverage() or ([], [])
    for code in range(0x21, 0x7F):
        index = bisect.bisect_right(starts, code) - 1
        assert index >= 0 and code <= ends[index], f"U+{code:04X}"
    assert glyphs.unprintable("Ann Lee, 12 Main St. #4 (O'Neil) ~{x}") == []


@pytest.mark.weasyprint_may_warn
def test_a_missing_glyph_that_reaches_the_renderer_is_an_error_not_a_box() -> None:
    composed = compose(parse_request(make_request()))
    broken = dataclasses.replace(
        composed, html=composed.html.replace("Jordan Avery", "Jordan \ue000")
    )
    with pytest.raises(MissingGlyphError, match="U\\+E000"):
        default_renderer().render(broken)


def test_same_request_gives_the_same_pdf() -> None:
    data = make_request()
    when = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)  # recorded in the consent record
    first = dn_docs.render_document(data, generated_at=when).pdf
    assert first == dn_docs.render_document(data, generated_at=when).pdf
    assert first != dn_docs.render_document(data, generated_at=when + dt.timedelta(days=1)).pdf
