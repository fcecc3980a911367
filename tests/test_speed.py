"""The speed work must not change what is printed.

The fast paths (a fixed-layout facts table; the consent record and compression done
while WeasyPrint writes; the compact CJK fonts) are compared with the slower way of
doing the same thing. What is reused from earlier documents (parsed sections, styles,
lines, sections, list markers, drawn lines) is compared with a render from scratch.
Each acceleration's replacements are installed as a render installs them
(``accel.exclusively``), alone or with the ones it works with.
"""

from __future__ import annotations

import datetime as dt
import inspect
import io
import json
import re
import subprocess
import sys
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any
from xml.etree import ElementTree

import cssselect2
import pikepdf
import pydyf
import pytest
import weasyprint
from helpers import TEXT_FIELDS, Pdf, make_request
from hypothesis import given, settings
from hypothesis import strategies as st
from weasyprint.css import StyleFor, get_all_computed_styles
from weasyprint.css.properties import INITIAL_VALUES
from weasyprint.formatting_structure.boxes import BlockBox, LineBox
from weasyprint.layout import absolute, block, inline, preferred
from weasyprint.layout import float as floats
from weasyprint.text import line_break

import dn_docs
from dn_docs import fonts, locales, resources
from dn_docs.compose import compose
from dn_docs.pdf import WeasyPrintRenderer, accel, default_renderer, embed, objectstreams
from dn_docs.pdf.accel import cascade, pagelist, parsing, styles, widths
from dn_docs.pdf.accel.caches import Caches
from dn_docs.pdf.accel.generations import Generations
from dn_docs.pdf.embed import COMPRESSION_LEVEL, finisher, page_fingerprints
from dn_docs.pdf.renderer import ARCHIVAL_OPTIONS
from dn_docs.record import compare_text, read_record, record_file
from dn_docs.request import parse_request

# The facts table as the automatic table layout would place it.
AUTOMATIC_TABLE = """
table.facts, html.large-print table.facts { table-layout: auto; }
table.facts th, html.large-print table.facts th { box-sizing: content-box; }
"""


def _installed(work: Callable[[], Any], *parts: Any) -> Any:
    """``work()`` with the replacements of ``parts`` installed, as a render installs them."""
    replacements = [replacement for part in parts for replacement in part.replacements]
    return accel.exclusively(lambda _: work(), replacements)


def _layout(html: str, stylesheets: list[weasyprint.CSS]) -> weasyprint.Document:
    """``html`` laid out as the warm renderer does, with other stylesheets."""
    renderer = default_renderer()
    return weasyprint.HTML(
        string=html, base_url=renderer.base_url, url_fetcher=renderer.fetcher
    ).render(stylesheets=stylesheets, font_config=renderer.font_config)


def _pages(html: str, *extra: weasyprint.CSS) -> list[str]:
    fingerprints: list[str] = []
    _layout(html, [default_renderer().stylesheet, *extra]).write_pdf(
        finisher=lambda _, pdf: fingerprints.extend(page_fingerprints(pdf))
    )
    return fingerprints


@pytest.mark.parametrize("large_print", [False, True], ids=["normal", "large-print"])
def test_fixed_facts_table_prints_like_the_automatic_layout(large_print: bool) -> None:
    automatic = weasyprint.CSS(string=AUTOMATIC_TABLE)
    differ = []
    for locale in locales.SUPPORTED:
        request = make_request(locale, options={"large_print": large_print})
        html = compose(parse_request(request)).html
        fixed, auto = _pages(html), _pages(html, automatic)
        assert len(fixed) >= 2
        if fixed != auto:
            differ.append(locale)
    assert differ == [], f"the fixed table moves text in {differ}"


def test_the_comparison_can_tell_a_moved_column() -> None:
    html = compose(parse_request(make_request("en"))).html
    moved = weasyprint.CSS(string="table.facts th { box-sizing: content-box; }")
    assert _pages(html)[0] != _pages(html, moved)[0]


def test_record_written_in_one_pass_matches_the_pdf_read_back() -> None:
    for locale in ("en", "ar", "zh_Hans"):
        data = dn_docs.render_pdf(make_request(locale))
        record = read_record(data)
        assert len(record["page_text_sha256"]) == Pdf(data).pages
        assert compare_text(data).matches
        with pikepdf.open(io.BytesIO(data)) as pdf:
            # One revision: the record is part of the file as written, not appended.
            assert data.count(b"%%EOF") == 1
            (spec,) = pdf.Root.AF
            assert str(spec.AFRelationship) == "/Data"
            embedded = pdf.attachments["consent-record.json"].get_file().read_bytes()
            assert spec.EF.F.read_bytes() == embedded


def _archival_writer(locale: str) -> tuple[Callable[[], bytes], dict[str, Any]]:
    """Writes one laid-out consent as the renderer does, each time it is called."""
    composed = compose(parse_request(make_request(locale)))
    seal = record_file(composed, dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC))
    laid_out = _layout(composed.html, [default_renderer().stylesheet])
    options = {"pdf_identifier": composed.text_hash[:32].encode("ascii"), **ARCHIVAL_OPTIONS}

    def write() -> bytes:
        data: bytes = laid_out.write_pdf(finisher=finisher(seal, compress=True), **options)
        return data

    return write, options


def test_objects_serialized_once_write_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """pydyf would make each object's bytes twice (the file, then the /ID hash)."""
    write, options = _archival_writer("ar")
    once = write()
    monkeypatch.setattr(embed, "_serialize_once", lambda pdf: None)
    twice = write()
    assert once == twice
    with pikepdf.open(io.BytesIO(once)) as pdf:
        assert bytes(pdf.trailer.ID[0]) == options["pdf_identifier"]
        assert len(pdf.pages) == Pdf(once).pages >= 2


def _object_streams(data: bytes) -> list[tuple[set[int], bytes]]:
    """The object numbers each object stream of ``data`` holds, and its compressed bytes."""
    streams = []
    for header, body in re.findall(
        rb"/Type /ObjStm([^>]*)>>\nstream\n(.*?)\nendstream", data, re.S
    ):
        count = int(re.search(rb"/N (\d+)", header)[1])
        numbers = zlib.decompress(body).split(None, 2 * count)[: 2 * count : 2]
        streams.append(({int(number) for number in numbers}, body))
    return streams


def _assert_same_objects(ours: pikepdf.Pdf, theirs: pikepdf.Pdf) -> None:
    """The same objects, wherever in the file they are: object and xref streams aside."""

    def placed_anywhere(pdf: pikepdf.Pdf) -> list[pikepdf.Object]:
        return [
            o
            for o in pdf.objects
            if not (isinstance(o, pikepdf.Stream) and o.get("/Type") in ("/XRef", "/ObjStm"))
        ]

    mine, other = placed_anywhere(ours), placed_anywhere(theirs)
    assert len(mine) == len(other) > 30
    for one, two in zip(mine, other, strict=True):
        if isinstance(one, pikepdf.Stream):
            assert one.read_bytes() == two.read_bytes()
        else:
            assert repr(one) == repr(two)
    # The second identifier hashes the file's bytes, object streams included.
    assert bytes(ours.trailer.ID[0]) == bytes(theirs.trailer.ID[0])


def test_object_streams_made_once_hold_the_same_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    """pydyf would compress the object stream twice at level 9 (the file, the /ID hash)."""
    write, options = _archival_writer("es")
    once = write()
    monkeypatch.setattr(embed, "_compress_streams_added_while_writing", lambda pdf: None)
    by_pydyf = write()
    assert once != by_pydyf
    with pikepdf.open(io.BytesIO(once)) as ours, pikepdf.open(io.BytesIO(by_pydyf)) as theirs:
        _assert_same_objects(ours, theirs)
        assert bytes(ours.trailer.ID[0]) == options["pdf_identifier"]
    streams = _object_streams(once)
    assert len(streams) == 2
    for _, body in streams:
        assert zlib.compress(zlib.decompress(body), COMPRESSION_LEVEL) == body


def test_structure_elements_have_an_object_stream_of_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write, _ = _archival_writer("en")
    apart = write()
    monkeypatch.setattr(objectstreams, "structure_apart", lambda pdf: None)
    by_pydyf = write()
    (pages_part, _), (structure_part, _) = _object_streams(apart)
    ((everything, _),) = _object_streams(by_pydyf)
    assert pages_part | structure_part == everything and not pages_part & structure_part
    with pikepdf.open(io.BytesIO(apart)) as ours, pikepdf.open(io.BytesIO(by_pydyf)) as theirs:
        elements = {o.objgen[0] for o in ours.objects if o.get("/Type") == "/StructElem"}
        assert structure_part == elements and len(elements) > 100
        # What the pages need is all outside the structure elements' stream.
        for page in ours.pages:
            for name in ("/Resources", "/Contents", "/Annots"):
                if name in page.obj and page.obj[name].is_indirect:
                    assert page.obj[name].objgen[0] not in structure_part
            for font in page.obj.Resources.Font.values():
                assert font.objgen[0] not in structure_part
        _assert_same_objects(ours, theirs)
    assert Pdf(apart).page_texts() == Pdf(by_pydyf).page_texts()


def test_page_references_are_kept_until_a_page_is_added() -> None:
    pdf = pydyf.PDF()
    for _ in range(2):
        pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))
    pydyfs = pagelist.TARGET.original

    def kept_until_a_page_is_added() -> None:
        kept = pdf.page_references
        assert pdf.page_references is kept
        assert kept == pydyfs.__get__(pdf)
        pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))
        assert pdf.page_references == pydyfs.__get__(pdf)
        assert len(pdf.page_references) == 3

    accel.exclusively(lambda _: kept_until_a_page_is_added(), pagelist.REPLACEMENTS)
    assert vars(pydyf.PDF)["page_references"] is pydyfs
    assert pdf.page_references is not pdf.page_references  # pydyf's own: a new tuple


def test_streams_are_compressed_and_decompress_to_the_drawn_page() -> None:
    data = dn_docs.render_pdf(make_request("zh_Hans", "aftercare"))
    with pikepdf.open(io.BytesIO(data)) as pdf:
        streams = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream)]
        raw = [obj.read_raw_bytes() for obj in streams if obj.get("/Filter") == "/FlateDecode"]
        assert len(raw) >= len(pdf.pages)
        font = max(raw, key=len)
        # Level 6 output of the same bytes: the stream was compressed here, not by pydyf.
        assert zlib.compress(zlib.decompress(font), COMPRESSION_LEVEL) == font
    title = locales.load_translations("zh_Hans").gettext("Aftercare after dry needling")
    assert title != "Aftercare after dry needling"
    assert Pdf(data).contains(title)


LOAD_LIBRARIES = """
import ctypes.util, json
import sys
searched = []
search = ctypes.util.find_library

def counting(name):
    searched.append(name)
    return search(name)

ctypes.util.find_library = counting
import {module}
import weasyprint.text.ffi as ffi
names = ("gobject", "pango", "harfbuzz", "fontconfig")
paths = {{part for part in open("/proc/self/maps").read().split() if part.startswith("/")}}
print(json.dumps({{
    "searched": len(searched),
    "restored": ctypes.util.find_library is counting,
    "libraries": sorted(path for path in paths if any(name in path for name in names)),
    "subset": ffi.harfbuzz_subset is not None,
}}))
"""


def _libraries_loaded_by(module: str) -> dict[str, Any]:
    """What a new process that imports ``module`` searched for and loaded."""
    script = LOAD_LIBRARIES.format(module=module)
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    result: dict[str, Any] = json.loads(output.stdout)
    return result


def test_weasyprint_libraries_load_without_a_search() -> None:
    plain, ours = _libraries_loaded_by("weasyprint"), _libraries_loaded_by("dn_docs.pdf")
    # What is saved: WeasyPrint alone has every other platform's name searched for.
    assert plain["searched"] > 10
    assert ours["searched"] == 0 and ours["restored"]
    assert ours["libraries"] == plain["libraries"]
    assert len(ours["libraries"]) >= 6 and ours["subset"]


def _words(data: bytes) -> list[tuple[str, ...]]:
    """Every word poppler finds, with its box, page by page."""
    output = subprocess.run(
        ["pdftotext", "-bbox", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    return re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)', output
    )


@pytest.mark.parametrize("face", fonts.FACES, ids=lambda face: face.lang)
def test_compact_cjk_fonts_print_the_same_words_in_the_same_places(face: fonts.CjkFace) -> None:
    assert face in fonts.available(), "run `dn-docs fonts build` (the set-up does)"
    locale = face.lang.replace("-", "_")
    html = compose(parse_request(make_request(locale))).html
    renderer = default_renderer()
    compact = bytes(_layout(html, [renderer.stylesheet]).write_pdf())
    installed_only = weasyprint.CSS(string=resources.print_css(), font_config=renderer.font_config)
    installed = bytes(_layout(html, [installed_only]).write_pdf())
    words = _words(compact)
    assert len(words) > 100
    assert words == _words(installed)
    family = face.family.replace(" ", "-")
    embedded = Pdf(compact).fonts()
    assert family in embedded
    assert face.system_family.replace(" ", "-") not in embedded
    assert len(compact) < len(installed) * 0.7


def test_a_character_outside_the_compact_font_falls_back_to_the_installed_one() -> None:
    # 堃 is not in GB 2312, so it is not in the compact copy; the installed font has it.
    assert ord("堃") not in fonts.charset("gb2312")
    data = dn_docs.render_pdf(make_request("zh_Hans", patient={"name": "王堃"}))
    names = Pdf(data).fonts()
    assert {"dn-docs-CJK-SC", "Noto-Sans-CJK-SC"} <= names
    assert "王堃" in Pdf(data).text


def _patient(number: int) -> dict[str, Any]:
    return {
        "name": f"Quinn Example-{number}",
        "date_of_birth": f"19{50 + number % 40}-0{1 + number % 9}-1{number % 10}",
        "id": f"Q-{number:04d}",
    }


# One language of each script and direction the product prints.
SCRIPTS = ("en", "ar", "he", "hi", "zh_Hans", "ja", "ko", "ru")


@pytest.mark.parametrize(
    ("kind", "large_print", "languages"),
    [
        ("consent", False, tuple(locales.SUPPORTED)),
        ("aftercare", False, SCRIPTS),
        ("consent", True, SCRIPTS),
    ],
    ids=["consent", "aftercare", "consent-large-print"],
)
def test_reused_layout_prints_the_same_bytes_as_a_fresh_layout(
    kind: str, large_print: bool, languages: tuple[str, ...]
) -> None:
    """Styles, lines, sections, list markers and drawn lines of earlier patients are
    reused, and each page's running header and stamp laid out once; the PDF is identical."""
    shared, fresh = default_renderer(), WeasyPrintRenderer(reuse_layout=False)
    caches = shared.caches
    when = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)
    options = {"large_print": large_print}
    for number, locale in enumerate(languages):
        # Another patient first, so this document's catalog text is already broken.
        shared.render(compose(parse_request(make_request(locale, kind, options=options))))
        request = make_request(locale, kind, patient=_patient(number), options=options)
        composed = compose(parse_request(request))
        seal = record_file(composed, when) if kind == "consent" else None
        hits, placed = caches.lines.reuse.hits, caches.sections.reuse.hits
        drawn, shared_styles = caches.drawing.reuse.hits, caches.styles.reuse.hits
        running, bullets = caches.margins.reuse.hits, caches.markers.reuse.hits
        cascaded, cells_placed = caches.cascade.reuse.hits, caches.cells.reuse.hits
        reused = shared.render(composed, seal)
        assert caches.lines.reuse.hits > hits, f"{locale}: no line was reused"
        assert caches.sections.reuse.hits > placed, f"{locale}: no section was reused"
        assert caches.drawing.reuse.hits > drawn, f"{locale}: no drawn line was reused"
        assert caches.styles.reuse.hits > shared_styles, f"{locale}: no style was shared"
        assert caches.markers.reuse.hits > bullets, f"{locale}: no list marker was reused"
        assert caches.cascade.reuse.hits > cascaded, f"{locale}: no section's styles were reused"
        assert caches.cells.reuse.hits - cells_placed >= 8, f"{locale}: too few table cells reused"
        from_scratch = fresh.render(composed, seal)
        assert reused.pages == from_scratch.pages >= 2, locale
        # The running header and the stamp of every page after the first.
        assert caches.margins.reuse.hits - running >= 2 * (reused.pages - 1), locale
        assert reused.data == from_scratch.data, f"{locale}: the reused lines changed the PDF"
        assert request["patient"]["id"] in Pdf(reused.data).text, locale


#: The option sets whose documents differ in structure.
EACH_OPTION_SET = pytest.mark.parametrize(
    "options",
    [{}, {"bilingual": True, "large_print": True}, {"language_assistance": True}],
    ids=["plain", "bilingual-large-print", "language-assistance"],
)


def _tree(root: Any) -> str:
    return ElementTree.tostring(root, encoding="unicode")


@pytest.mark.parametrize("kind", ["consent", "aftercare"])
@EACH_OPTION_SET
def test_sections_parsed_once_build_the_tree_of_the_whole_document(
    kind: str, options: dict[str, Any]
) -> None:
    """Each section parsed alone, then copied into the skeleton: the parser's own tree."""
    parser = parsing.SectionParser()
    for locale in locales.SUPPORTED:
        hits = parser.reuse.hits
        # The second patient's sections are found parsed already.
        for number in (1, 2):
            patient = {"name": f"<b>Ana</b> & \u202eO'Neil {number}", "id": "<!--dn:section-->"}
            request = make_request(locale, kind, patient=patient, options=options)
            html = compose(parse_request(request)).html
            assert _tree(parser.parse_sections(html)) == _tree(parsing.parse_html(html)), locale
        assert parser.reuse.hits - hits >= 3, locale


def test_a_parsed_document_finds_its_elements_as_cssselect2_does() -> None:
    html = compose(parse_request(make_request("ar", options={"bilingual": True}))).html
    root = parsing.ParsedHTML(
        parsing.SectionParser().parse_sections(html), default_renderer().base_url, None
    )
    wrapper = cssselect2.ElementWrapper.from_html_root(root.etree_element)
    for selectors in [("style", "link"), ("title", "meta", "link"), ("p",), ("td", "th")]:
        found = [each.etree_element for each in root.wrapper_element.query_all(*selectors)]
        assert found == [each.etree_element for each in wrapper.query_all(*selectors)]
        assert found
    # Anything but tag names is matched by cssselect2 itself.
    found = [each.etree_element for each in root.wrapper_element.query_all("td .value")]
    assert found and found == [each.etree_element for each in wrapper.query_all("td .value")]


@settings(max_examples=30, deadline=None)
@given(
    field=st.sampled_from(TEXT_FIELDS),
    text=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40),
    locale=st.sampled_from(["en", "ar", "zh_Hans"]),
)
def test_any_request_text_parses_to_the_same_tree(
    field: tuple[str, str], text: str, locale: str
) -> None:
    request = make_request(locale)
    request[field[0]][field[1]] = text
    try:
        html = compose(parse_request(request)).html
    except dn_docs.RequestError:
        return
    assert _tree(parsing.SectionParser().parse_sections(html)) == _tree(parsing.parse_html(html))


def test_kept_lines_forget_patients_and_keep_the_catalog() -> None:
    renderer = WeasyPrintRenderer()
    lines = renderer.caches.lines
    # A generation a little larger than the distinct lines of one consent (about 330).
    lines.kept = Generations(400)
    # Every section laid out, so every document breaks its lines (or finds them kept).
    renderer.caches.sections.kept = Generations(0)
    names = [f"Quinn Example-{number:02d}" for number in range(25)]
    misses = []
    for number, name in enumerate(names):
        request = make_request("en", patient={**_patient(number), "name": name})
        before = lines.reuse.misses
        renderer.render(compose(parse_request(request)))
        misses.append(lines.reuse.misses - before)
    kept = lines.kept_texts()
    assert len(kept) <= 2 * 400
    # The last patient's lines are still there; the first patients' are gone.
    assert any(names[-1] in text for text in kept)
    assert not any(names[0] in text for text in kept)
    # The catalog's lines survived every turnover: the last document broke no more
    # lines afresh than the second one, before any turnover (its patient's own).
    assert 0 < misses[-1] <= misses[1] < misses[0]


def test_what_one_document_makes_stays_on_trial_until_a_later_one_uses_it() -> None:
    kept: Generations[str] = Generations(10, trial=3)
    kept.begin_document()
    kept.put("catalog", "made by the first document")
    kept.put("patient", "the first patient's own")
    # Used again by the document that made it: found, and still on trial.
    assert kept.get("patient") == "the first patient's own"
    assert set(kept.trial) == {"catalog", "patient"} and not kept.newer
    kept.begin_document()
    assert kept.get("catalog") == "made by the first document"
    assert list(kept.newer) == ["catalog"] and "catalog" not in kept.trial
    for number in range(3):
        kept.put(f"patient {number + 2}", "another patient's own")
    # The oldest entry on trial made room for the newest; the kept one stayed.
    assert "patient" not in set(kept) and len(kept.trial) == 3
    assert kept.get("catalog") == "made by the first document"


def test_what_only_one_patients_document_uses_is_not_kept() -> None:
    renderer = WeasyPrintRenderer()
    caches = renderer.caches
    parts = {
        "parsed sections": caches.parsing,
        "section styles": caches.cascade,
        "cells": caches.cells,
        "drawn lines": caches.drawing,
    }
    kept: list[dict[str, int]] = []
    for number in range(4):
        request = make_request("en", patient=_patient(number))
        renderer.render(compose(parse_request(request)))
        kept.append(
            {name: len(part.kept.newer) + len(part.kept.older) for name, part in parts.items()}
        )
    # The second document kept what it found of the first (the catalog's own); the
    # third and fourth patients' names, dates and ids, new in every part, kept nothing.
    assert all(count > 0 for count in kept[1].values())
    assert kept[3] == kept[2] == kept[1]
    assert all(part.kept.trial for part in parts.values())
    drawing = caches.drawing.reuse.hits
    renderer.render(compose(parse_request(make_request("en", patient=_patient(2)))))
    # The patient's own lines on trial are still found when that patient comes again.
    assert caches.drawing.reuse.hits > drawing


def test_layout_reuse_stays_inside_the_warm_renderer() -> None:
    default_renderer().render(compose(parse_request(make_request("en"))))
    # Outside the warm renderer WeasyPrint lays out everything itself, so a plain render
    # in the same process (the benchmark's baseline) gets no help.
    assert inline.split_first_line is line_break.split_first_line
    assert preferred.split_first_line is line_break.split_first_line
    for target in accel.TARGETS:
        found = inspect.getattr_static(target.owner, target.name)
        assert found is target.original, target
        function = found.fget if isinstance(found, property) else found
        assert function.__module__.partition(".")[0] in ("weasyprint", "pydyf"), target
    for module in (floats, inline, absolute):
        assert module.shrink_to_fit is preferred.shrink_to_fit
    assert weasyprint.draw.draw_text is weasyprint.draw.text.draw_text
    assert block.block_level_layout.__module__ == "weasyprint.layout.block"
    assert StyleFor.set_computed_styles.__module__ == "weasyprint.css"


@pytest.mark.parametrize("locale", ["en", "ar", "zh_Hans"])
def test_sections_moved_down_the_page_or_across_a_break_print_the_same_bytes(
    locale: str,
) -> None:
    """A longer facts table pushes the same sections lower, then over the page's end.

    A kept section is placed lower while it still fits; once it would not, WeasyPrint
    breaks it afresh. Each document is identical to one laid out from scratch.
    """
    shared, fresh = WeasyPrintRenderer(), WeasyPrintRenderer(reuse_layout=False)
    sections = shared.caches.sections
    words = "Doctor of Physical Therapy, Dry Needling, Orthopaedic Manual Therapy, " * 3
    placed = sections.reuse.hits
    breaks: set[int] = set()
    for step in range(9):
        longer = words[: 8 + 24 * step]
        request = make_request(
            locale,
            patient=_patient(step),
            practitioner={"credentials": longer},
            clinic={"address": longer},
        )
        composed = compose(parse_request(request))
        reused, from_scratch = shared.render(composed), fresh.render(composed)
        assert reused.pages == from_scratch.pages, step
        assert reused.data == from_scratch.data, f"step {step}: the PDFs differ"
        breaks.add(len(Pdf(reused.data).page_texts()[0]))
    assert sections.reuse.hits - placed > 20
    # The first page ends at different places: sections did move across the break.
    assert len(breaks) > 3


@pytest.mark.parametrize("locale", ["en", "ar", "zh_Hans"])
def test_sections_broken_across_pages_are_placed_again_where_the_room_is_the_same(
    locale: str,
) -> None:
    """Another patient's document with the same content breaks in the same places."""
    shared, fresh = WeasyPrintRenderer(), WeasyPrintRenderer(reuse_layout=False)
    sections = shared.caches.sections
    for number in (1, 2):
        composed = compose(parse_request(make_request(locale, patient=_patient(number))))
        parts = sections.broken.hits
        reused, from_scratch = shared.render(composed), fresh.render(composed)
        assert reused.data == from_scratch.data, f"patient {number}: the PDFs differ"
    # The part before each break and the rest after it, at least one break.
    assert sections.broken.hits - parts >= 2
    assert reused.pages >= 3


PAGE_SIZED = """<html><head><style>@page { size: %s; margin: 0 }</style></head>
<body><p class="half">Half the page wide.</p><p>As wide as the page.</p></body></html>"""


def _paragraph_widths(document: weasyprint.Document) -> list[float]:
    (page,) = document.pages
    return [
        box.width
        for box in page._page_box.descendants()
        if box.element_tag == "p" and isinstance(box, BlockBox)
    ]


def test_styles_that_depend_on_the_page_size_are_computed_for_each_document() -> None:
    """A width in vw is worked out from each document's page, never an earlier one's."""
    sheet = weasyprint.CSS(string="body, p { margin: 0 } p.half { width: 50vw }")
    shared_styles = Caches().styles
    widths = {}
    for size in ("A5", "A4", "A5"):
        shared_before = shared_styles.reuse.hits
        html = PAGE_SIZED % size
        laid_out = partial(_layout, html, [sheet])
        widths[size] = _paragraph_widths(_installed(laid_out, shared_styles))
        shared = shared_styles.reuse.hits - shared_before
    # Laid out from scratch: the same widths.
    fresh = {size: _paragraph_widths(_layout(PAGE_SIZED % size, [sheet])) for size in widths}
    assert widths == fresh
    assert widths["A4"][0] == pytest.approx(widths["A4"][1] / 2)
    assert widths["A5"][0] == pytest.approx(widths["A5"][1] / 2)
    assert widths["A5"][0] < widths["A4"][0]
    # The other elements' styles were shared.
    assert shared > 0


def test_kept_styles_stay_bounded_and_print_the_same() -> None:
    shared, fresh = WeasyPrintRenderer(), WeasyPrintRenderer(reuse_layout=False)
    # Small generations turn over in the middle of every document.
    shared.caches.styles.kept = kept_styles = Generations(40)
    shared.caches.cascade.kept = kept_section_styles = Generations(3)
    for number, locale in enumerate(["en", "ar", "en"]):
        composed = compose(parse_request(make_request(locale, patient=_patient(number))))
        assert shared.render(composed).data == fresh.render(composed).data, locale
        assert len(kept_styles.newer) <= 40
        assert len(kept_styles.older) <= 40
        assert len(kept_section_styles.newer) <= 3


def _styles(caches: Caches, html: str, section_cascade: bool) -> list[tuple[Any, ...]]:
    """Each element's and pseudo-element's style, as the warm renderer computes it."""
    renderer = default_renderer()
    copies: dict[Any, Any] = {}
    document = parsing.ParsedHTML(
        caches.parsing.parse_sections(html, copies), renderer.base_url, None, copies
    )
    caches.styles.learn_from_copies()
    style_for = _installed(
        lambda: get_all_computed_styles(
            document, user_stylesheets=[renderer.stylesheet], font_config=renderer.font_config
        ),
        caches.styles,
        *([caches.cascade] if section_cascade else []),
    )
    position = {element: number for number, element in enumerate(document.etree_element.iter())}
    return sorted(
        (position[element], pseudo_type or "", styles.kept_style_of(style), style)
        for (element, pseudo_type), style in style_for.get_computed_styles().items()
    )


@pytest.mark.parametrize("kind", ["consent", "aftercare"])
@EACH_OPTION_SET
def test_sections_get_the_styles_the_cascade_gives_them(kind: str, options: dict[str, Any]) -> None:
    """A known section's styles are handed out again: the very styles matching finds."""
    caches = Caches()
    # Room for every language's styles, so none is dropped and made again meanwhile.
    caches.styles.kept = Generations(100_000)
    caches.cascade.kept = Generations(100_000)
    for locale in locales.SUPPORTED:
        # Another patient first, so the sections' styles are known.
        first = compose(parse_request(make_request(locale, kind, options=options))).html
        _styles(caches, first, section_cascade=True)
        request = make_request(locale, kind, patient=_patient(3), options=options)
        html = compose(parse_request(request)).html
        hits = caches.cascade.reuse.hits
        handed_out = _styles(caches, html, section_cascade=True)
        assert caches.cascade.reuse.hits - hits >= 3, locale
        matched = _styles(caches, html, section_cascade=False)
        assert len(handed_out) == len(matched) > 500, locale
        for ours, theirs in zip(handed_out, matched, strict=True):
            assert ours[:2] == theirs[:2], locale
            # The same kept style, or (not kept) a style with the same values.
            assert ours[2] is theirs[2], (locale, ours[:2])
            if ours[2] is None:
                assert _values(ours[3]) == _values(theirs[3]), (locale, ours[:2])


def _values(style: Any) -> dict[str, Any]:
    return {name: style[name] for name in INITIAL_VALUES}


@pytest.mark.parametrize(
    ("css", "independent"),
    [
        ("section h2 { color: red } html.large-print p > span { font-size: 2em }", True),
        ("@page :first { margin: 0 } @media print { main section { margin: 0 } }", True),
        ("h2 + p { margin-top: 0 }", False),
        ("li ~ li { color: red }", False),
        ("li:first-child { color: red }", False),
        ("@media print { tr:nth-child(2n) { color: red } }", False),
        ("p:empty { display: none }", False),
        ("section:has(.note) { color: red }", False),
    ],
)
def test_sections_styles_are_reused_only_without_sibling_selectors(
    css: str, independent: bool
) -> None:
    assert cascade.independent_of_siblings(css) is independent


def test_product_stylesheet_and_a_document_style_with_sibling_selectors() -> None:
    assert default_renderer().cascade_by_section
    caches = Caches()
    html = compose(parse_request(make_request("en"))).html
    _styles(caches, html, section_cascade=True)
    hits = caches.cascade.reuse.hits
    _styles(caches, html, section_cascade=True)
    assert caches.cascade.reuse.hits > hits
    # A document whose own <style> looks at siblings is cascaded in full.
    sibling_styled = html.replace("<style>", "<style>h2 + p { color: red }", 1)
    hits, misses = caches.cascade.reuse.hits, caches.cascade.reuse.misses
    _styles(caches, sibling_styled, section_cascade=True)
    assert (caches.cascade.reuse.hits, caches.cascade.reuse.misses) == (hits, misses)


FLOATS = """<html><body style="margin: 0"><div style="width: 300px">
<span style="float: right">{}</span>Beside the float.</div></body></html>"""


@pytest.mark.parametrize(
    ("text", "fits"),
    [("Quinn Example-7", True), ("A float far too long to fit on one line " * 3, False)],
)
def test_floats_are_as_wide_as_weasyprint_makes_them(
    text: str, fits: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The min-content width is only worked out when the float does not fit."""
    html = FLOATS.format(text)
    calls: list[Any] = []
    min_content_width = preferred.min_content_width
    monkeypatch.setattr(
        preferred,
        "min_content_width",
        lambda *a, **k: calls.append(a) or min_content_width(*a, **k),
    )
    lazy = accel.exclusively(lambda _: _float_boxes(_layout(html, [])), widths.REPLACEMENTS)
    assert bool(calls) is not fits
    assert lazy == _float_boxes(_layout(html, []))
    assert len(calls) > 0


def _float_boxes(document: weasyprint.Document) -> list[tuple[float, ...]]:
    (page,) = document.pages
    return [
        (box.position_x, box.position_y, box.width, box.height)
        for box in page._page_box.descendants()
        if box.is_floated() or isinstance(box, LineBox)
    ]


@pytest.mark.parametrize("locale", ["zh_Hans", "ja", "en"])
def test_font_subsets_are_made_once_for_the_same_glyphs(locale: str) -> None:
    """Another patient, the same content: the script's fonts are cut to the same glyphs."""
    shared, fresh = WeasyPrintRenderer(), WeasyPrintRenderer(reuse_layout=False)
    subsets = shared.caches.subsets
    for number in (1, 2):
        composed = compose(parse_request(make_request(locale, patient=_patient(number))))
        hits = subsets.reuse.hits
        reused = shared.render(composed)
        assert reused.data == fresh.render(composed).data, f"patient {number}"
    # The same glyphs of the regular and the bold face.
    assert subsets.reuse.hits - hits >= 2
    assert Pdf(reused.data).contains(_patient(2)["name"])
    # New letters in a name: the subset of the name's font is made afresh.
    patient = {**_patient(3), "name": "Żaneta Ørsted-Quigley"}
    composed = compose(parse_request(make_request(locale, patient=patient)))
    misses = subsets.reuse.misses
    reused = shared.render(composed)
    assert reused.data == fresh.render(composed).data
    assert subsets.reuse.misses > misses
    assert Pdf(reused.data).contains("Żaneta Ørsted-Quigley")


def test_a_kept_subset_is_only_used_for_the_font_file_it_was_made_from() -> None:
    shared, fresh = WeasyPrintRenderer(), WeasyPrintRenderer(reuse_layout=False)
    subsets = shared.caches.subsets
    subsets.kept = Generations(100)
    composed = compose(parse_request(make_request("ko")))
    shared.render(composed)
    for subset in subsets.kept.newer.values():
        subset.file_crc ^= 1  # as if made from another file with the same name and length
    hits = subsets.reuse.hits
    assert shared.render(composed).data == fresh.render(composed).data
    assert subsets.reuse.hits == hits


def test_a_kept_subset_is_compressed_once() -> None:
    shared = WeasyPrintRenderer()
    subsets = shared.caches.subsets
    composed = compose(parse_request(make_request("zh_Hans")))
    shared.render(composed)
    calls: list[int] = []

    def counted(data: bytes, level: int) -> bytes:
        calls.append(len(data))
        return zlib.compress(data, level)

    (subset, *_) = subsets.kept.newer.values()
    first = subsets.compressed(subset.data, COMPRESSION_LEVEL, counted)
    assert subsets.compressed(subset.data, COMPRESSION_LEVEL, counted) is first
    assert zlib.decompress(first) == subset.data
    assert calls in ([], [len(subset.data)])  # compressed once, here or while rendering
    # Other bytes, even equal ones, are compressed as they come.
    copy = bytes(bytearray(subset.data))
    assert subsets.compressed(copy, COMPRESSION_LEVEL, counted) == first
    assert calls[-1] == len(subset.data)


TABLES = """<html><head><style>@page {{ size: {size}; margin: 10mm }}
td {{ border: 1px solid; padding: 2px }} .wide td {{ font-weight: bold }}
.full {{ width: 100% }}</style></head>
<body>{body}</body></html>"""


def _cell_boxes(document: weasyprint.Document) -> list[tuple[Any, ...]]:
    return [
        (number, box.element_tag, box.position_x, box.position_y, box.width, box.height)
        for number, page in enumerate(document.pages)
        for box in page._page_box.descendants()
        if box.element_tag in ("td", "span") or isinstance(box, LineBox)
    ]


def test_table_cells_laid_out_once_are_placed_as_weasyprint_lays_them_out() -> None:
    """The same cells lower down, in wider columns, under other rules, across a break."""
    row = "<tr><td>Treatment date</td><td>21 November 2026, <span>09:30</span></td></tr>"
    documents = [
        TABLES.format(size="A6", body=f"<table>{row * 3}</table>"),
        TABLES.format(size="A6", body=f"<p>Above.</p><table>{row * 3}</table>"),
        # The same styles, but wider columns.
        TABLES.format(size="A6 landscape", body=f"<table class='full'>{row * 3}</table>"),
        TABLES.format(size="A5 landscape", body=f"<table class='full'>{row * 3}</table>"),
        TABLES.format(size="A6", body=f"<table class='wide'>{row * 3}</table>"),
        TABLES.format(size="A6", body=f"<table>{row * 40}</table>"),
    ]
    sheet = weasyprint.CSS(string="")
    caches = Caches()
    cells = caches.cells
    placed = cells.reuse.hits
    for html in documents:
        reused = _cell_boxes(_installed(partial(_layout, html, [sheet]), caches.styles, cells))
        fresh = _cell_boxes(_layout(html, [sheet]))
        assert [box[:2] for box in reused] == [box[:2] for box in fresh]
        # A placed copy is moved by the difference of two positions: the same place to
        # within a float's last bits, far below the micrometre a PDF coordinate keeps.
        places = [value for box in reused for value in box[2:]]
        assert places == pytest.approx([value for box in fresh for value in box[2:]], abs=1e-9)
    assert cells.reuse.hits - placed > 40
    assert len({page for page, *_ in reused}) > 1  # the long table broke across pages


def test_kept_sections_stay_bounded() -> None:
    renderer = WeasyPrintRenderer()
    renderer.caches.sections.kept = sections = Generations(6)
    languages = ["en", "es", "ar", "zh_Hans", "ko", "ja"]
    for number, locale in enumerate(languages):
        renderer.render(compose(parse_request(make_request(locale, patient=_patient(number)))))
        assert len(sections.newer) <= 6
        assert len(sections.older) <= 6
    kept = {dict(key[0])["lang"] for key in sections}  # type: ignore[index]
    # The first languages' sections were dropped; the last one's are there.
    assert "en" not in kept
    assert "ja" in kept


def test_each_font_configuration_breaks_its_own_lines() -> None:
    # Another configuration may hold other fonts, so its lines are never borrowed, even
    # from caches it is given.
    composed = compose(parse_request(make_request("en")))
    first, second = WeasyPrintRenderer(), WeasyPrintRenderer()
    second.caches = first.caches
    lines = first.caches.lines
    misses = []
    for renderer in (first, second):
        before = lines.reuse.misses
        renderer.render(composed)
        misses.append(lines.reuse.misses - before)
    assert misses[0] == misses[1] > 0


def test_warm_up_lays_out_the_sections_of_its_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    """A patient's first document after warm-up finds its language's sections laid out."""
    sections = default_renderer().caches.sections

    def placed_in_first_document() -> int:
        placed = sections.reuse.hits
        dn_docs.render_document(make_request("pl", "aftercare", patient=_patient(3)))
        return sections.reuse.hits - placed

    monkeypatch.setattr(sections, "kept", Generations(150))
    assert placed_in_first_document() == 0
    monkeypatch.setattr(sections, "kept", Generations(150))
    dn_docs.warm_up(["pl", "fr"])
    assert {dict(key[0])["lang"] for key in sections.kept} == {"pl", "fr"}  # type: ignore[index]
    assert placed_in_first_document() >= 3


DRAWN = """<html lang="en"><body>
<p style="text-align: justify; width: 14em">The same words, justified across a narrow
column, so that the spaces between them grow to fill each line.</p>
<p><span style="text-decoration: underline">Underlined words</span> and
<span style="letter-spacing: 1px">spaced letters</span> and plain words.</p>
<p dir="rtl" lang="ar">نص عربي قصير للتجربة</p>
<p lang="zh-Hans">中文文本的测试</p>
</body></html>"""


def test_drawn_lines_are_written_again_only_where_they_print_the_same() -> None:
    stylesheets = [default_renderer().stylesheet]
    from_scratch = _layout(DRAWN, stylesheets).write_pdf()
    drawing = Caches().drawing
    first = _installed(lambda: _layout(DRAWN, stylesheets).write_pdf(), drawing)
    hits = drawing.reuse.hits
    again = _installed(lambda: _layout(DRAWN, stylesheets).write_pdf(), drawing)
    assert drawing.reuse.hits - hits >= 6
    assert first == again == from_scratch
    kept = {key[0] for key in drawing.kept}  # type: ignore[index]
    # Justified, spaced, right-to-left and CJK lines are kept; underlined ones are not.
    assert {"spaced letters", "中文文本的测试"} <= kept
    assert any("justified" in text for text in kept)
    assert any("عربي" in text for text in kept)
    assert not any("Underlined" in text for text in kept)
    assert [page.strip() for page in Pdf(again).page_texts()] == [
        page.strip() for page in Pdf(from_scratch).page_texts()
    ]


def test_kept_drawn_lines_stay_bounded() -> None:
    renderer = WeasyPrintRenderer()
    renderer.caches.drawing.kept = drawn = Generations(40)
    for number, locale in enumerate(["en", "es", "ar"]):
        renderer.render(compose(parse_request(make_request(locale, patient=_patient(number)))))
        assert len(drawn.newer) <= 40
        assert len(drawn.older) <= 40


CHECKBOXES = """<html lang="en"><body><p>☑ Yes</p>{}</body></html>"""
LARGE_BOX = '<p style="font-size: 12pt">☐ No</p>'
SMALL_BOX = '<p style="font-size: 10pt">☐ Not sure</p>'


def test_a_drawn_line_written_again_gives_its_glyphs_the_widths_drawing_afresh_would() -> None:
    """A glyph's width in the PDF (/W) is worked out at the size it is first drawn at."""
    stylesheets = [default_renderer().stylesheet]
    only_large, only_small = CHECKBOXES.format(LARGE_BOX), CHECKBOXES.format(SMALL_BOX)
    # The premise: ☐ is a thousandth of an em wider at 10 pt than at 12 pt.
    assert _box_width(only_small, stylesheets) == _box_width(only_large, stylesheets) + 1
    drawing = Caches().drawing
    for number, html in enumerate(
        [
            only_large,
            only_small,
            only_large,  # the 12 pt line again, after the 10 pt line was kept
            CHECKBOXES.format(SMALL_BOX + LARGE_BOX),  # the font knows ☐ at 10 pt already
            CHECKBOXES.format(LARGE_BOX + SMALL_BOX),
            only_small,
        ]
    ):
        hits = drawing.reuse.hits
        reused = _installed(partial(_layout(html, stylesheets).write_pdf), drawing)
        # From the third on, a ☐ line is written again (never the first line of a
        # document: its fonts are new to the document).
        assert drawing.reuse.hits - hits >= (1 if number >= 2 else 0)
        assert reused == _layout(html, stylesheets).write_pdf(), number


def _box_width(html: str, stylesheets: list[weasyprint.CSS]) -> int:
    """The width ☐ has in the PDF's /W table."""
    with pikepdf.open(io.BytesIO(_layout(html, stylesheets).write_pdf())) as pdf:
        for font in pdf.pages[0].Resources.Font.values():
            descendant = font.DescendantFonts[0]
            to_unicode = font.ToUnicode.read_bytes().decode()
            found = re.search(r"<([0-9a-f]{4})> <2610>", to_unicode, re.I)
            if found:
                glyph, widths = int(found[1], 16), list(descendant.W)
                for first, values in zip(widths[::2], widths[1::2], strict=True):
                    if int(first) <= glyph < int(first) + len(values):
                        return int(values[glyph - int(first)])
    raise AssertionError("☐ is not in the PDF")
