"""The speed work must not change what is printed.

The fast paths (a fixed-layout facts table; the consent record and compression done
while WeasyPrint writes) are compared with the slower way of doing the same thing.
"""

from __future__ import annotations

import io
import zlib

import pikepdf
import pytest
import weasyprint
from helpers import Pdf, make_request

import dn_docs
from dn_docs import locales
from dn_docs.compose import compose
from dn_docs.pdf import default_renderer
from dn_docs.pdf.embed import COMPRESSION_LEVEL, page_fingerprints
from dn_docs.record import read_record, verify
from dn_docs.request import parse_request

# The facts table as the automatic table layout would place it.
AUTOMATIC_TABLE = """
table.facts, html.large-print table.facts { table-layout: auto; }
table.facts th, html.large-print table.facts th { box-sizing: content-box; }
"""


def _pages(html: str, *extra: weasyprint.CSS) -> list[str]:
    renderer = default_renderer()
    fingerprints: list[str] = []
    document = weasyprint.HTML(
        string=html, base_url=renderer.base_url, url_fetcher=renderer.fetcher
    ).render(stylesheets=[renderer.stylesheet, *extra], font_config=renderer.font_config)
    document.write_pdf(finisher=lambda _, pdf: fingerprints.extend(page_fingerprints(pdf)))
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
        assert str(verify(data)) == "intact"
        with pikepdf.open(io.BytesIO(data)) as pdf:
            # One revision: the record is part of the file as written, not appended.
            assert data.count(b"%%EOF") == 1
            (spec,) = pdf.Root.AF
            assert str(spec.AFRelationship) == "/Data"
            embedded = pdf.attachments["consent-record.json"].get_file().read_bytes()
            assert spec.EF.F.read_bytes() == embedded


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
