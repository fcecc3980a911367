"""Trust: the sandboxed fetcher, hostile input, patient-data hygiene, archival PDFs,
verification, the clinic logo and purging old outputs."""

from __future__ import annotations

import http.server
import io
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pikepdf
import pytest
import weasyprint
from batch_support import clinic_defaults, write_batch
from click.testing import CliRunner
from helpers import TEXT_FIELDS, Pdf, assert_pdf_a_3u, make_request

import dn_docs
from dn_docs import RequestError, parse_request
from dn_docs.batch import LocalDispatcher, run_batch
from dn_docs.cli import main
from dn_docs.pdf import default_renderer
from dn_docs.pdf.diagnostics import watched_render
from dn_docs.pdf.fetcher import RefusedURLError
from dn_docs.record import compare_text, read_record

# The sandboxed fetcher ---------------------------------------------------------------


@pytest.fixture
def listener() -> Any:
    """A local HTTP server that counts every request it gets (it should get none)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"body{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def _render_html(html: str, **options: Any) -> bytes:
    renderer = default_renderer()
    document = weasyprint.HTML(
        string=html, base_url=renderer.base_url, url_fetcher=renderer.fetcher
    )
    return document.write_pdf(font_config=renderer.font_config, **options)


@pytest.mark.parametrize("target", ["file:///etc/passwd", "NETWORK"])
@pytest.mark.parametrize(
    "way",
    [
        '<style>@import url("{url}");</style><p>x</p>',
        "<p style=\"background: url('{url}')\">x</p>",
        '<img src="{url}">',
        '<link rel="stylesheet" href="{url}"><p>x</p>',
    ],
    ids=["css-import", "style-attribute-url", "img", "link"],
)
def test_fetcher_refuses_files_and_network_every_way(way: str, target: str, listener) -> None:
    base, hits = listener
    url = f"{base}/x.css" if target == "NETWORK" else target
    with pytest.raises(BaseException) as caught:
        _render_html(way.format(url=url))
    assert isinstance(caught.value, RefusedURLError) or "refused" in str(caught.value).lower()
    assert hits == []


@pytest.mark.weasyprint_may_warn
@pytest.mark.parametrize("target", ["file:///etc/passwd", "NETWORK"])
def test_svg_references_are_refused_where_weasyprint_swallows_errors(target: str, listener) -> None:
    # WeasyPrint catches errors inside SVG images and logs them; the render diagnostics
    # turn that log line into a failed render.
    base, hits = listener
    url = f"{base}/i.png" if target == "NETWORK" else target
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg"><image href="{url}" width="5" height="5"/></svg>'
    )
    with pytest.raises(dn_docs.RenderError, match="could not be loaded"), watched_render():
        _render_html(svg)
    assert hits == []


@pytest.mark.parametrize("target", ["file:///etc/passwd", "NETWORK"])
def test_fetcher_refuses_attachments(target: str, listener) -> None:
    base, hits = listener
    url = f"{base}/a.txt" if target == "NETWORK" else target
    renderer = default_renderer()
    attachment = (
        weasyprint.Attachment(url=url, url_fetcher=renderer.fetcher)
        if target == "NETWORK"
        else None
    )
    with pytest.raises(BaseException) as caught:
        attachment = attachment or weasyprint.Attachment(url=url, url_fetcher=renderer.fetcher)
        _render_html("<p>x</p>", attachments=[attachment])
    assert isinstance(caught.value, RefusedURLError)
    assert hits == []


def test_fetcher_serves_bundled_assets_and_data_uris() -> None:
    fetcher = default_renderer().fetcher
    css = fetcher.fetch(default_renderer().base_url + "print.css")
    assert b"@page" in css.read()
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    with pytest.raises(RefusedURLError):
        fetcher.fetch(default_renderer().base_url + "../base.html")
    with pytest.raises(RefusedURLError):
        fetcher.fetch("https://example.org/x.css")


# Hostile input corpus ----------------------------------------------------------------

MARKUP = [
    "<b>bold</b>",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "{% if true %}x{% endif %}",
    "</style><style>body{display:none}</style>",
    "a; background: url(file:///etc/passwd)",
    "file:///etc/passwd",
    "http://127.0.0.1:6379/",
    '"><img src=x onerror=alert(1)>',
]


def _set(field: tuple[str, str], value: Any) -> dict[str, Any]:
    return make_request(**{field[0]: {field[1]: value}})


def _literal_cases() -> list[tuple[str, dict[str, Any], str]]:
    cases = []
    for field in TEXT_FIELDS:
        for text in MARKUP:
            limit = 64 if field[1] in ("id", "license") else 120
            cases.append(
                (f"{'.'.join(field)}={text[:18]}", _set(field, text[:limit]), text[:limit])
            )
    return cases


LITERAL = _literal_cases()

REFUSED: list[tuple[str, dict[str, Any], str]] = [
    (
        "path traversal id",
        make_request(patient={"id": "../../etc/passwd"}),
        "",
    ),  # printed, see below
    ("logo absolute path", make_request(clinic={"logo": "/etc/passwd"}), "clinic.logo"),
    ("logo traversal", make_request(clinic={"logo": "../../etc/passwd.png"}), "clinic.logo"),
    ("logo url", make_request(clinic={"logo": "http://127.0.0.1/logo.png"}), "clinic.logo"),
    ("logo file url", make_request(clinic={"logo": "file:///etc/passwd"}), "clinic.logo"),
    ("logo not an image", make_request(clinic={"logo": "notes.txt"}), "clinic.logo"),
    ("5000-char word", make_request(patient={"name": "W" * 5000}), "patient.name"),
    ("megabyte name", make_request(patient={"name": "A" * 2**20}), "patient.name"),
    ("megabyte address", make_request(clinic={"address": "B" * 2**20}), "clinic.address"),
    ("megabyte area list", make_request(session={"areas": ["neck"] * 200_000}), "session.areas"),
    ("nul byte", make_request(patient={"name": "Ann\x00"}), "patient.name"),
    ("escape sequence", make_request(patient={"name": "\x1b[31mAnn"}), "patient.name"),
    ("private-use glyph", make_request(patient={"name": "Ann \ue000"}), "patient.name"),
    ("only invisible marks", make_request(patient={"name": "\u202e\u200b"}), "patient.name"),
    ("css in phone", make_request(clinic={"phone": "1;color:red"}), "clinic.phone"),
    ("markup in country", make_request(clinic={"country": "<b"}), "clinic.country"),
    ("template in locale", make_request(locale="{{7*7}}"), "locale"),
    ("url in locale", make_request(locale="file:///etc/passwd"), "locale"),
    ("markup in area", make_request(session={"areas": ["<b>neck</b>"]}), "session.areas[0]"),
    ("object as name", make_request(patient={"name": {"first": "A"}}), "patient.name"),
]


@pytest.mark.parametrize(("label", "data", "text"), LITERAL, ids=[c[0] for c in LITERAL])
def test_hostile_text_is_printed_literally(label: str, data: dict[str, Any], text: str) -> None:
    html = dn_docs.render_html(data)
    assert "<script>" not in html and "onerror=alert" not in html.replace(
        "onerror=alert(1)&gt;", ""
    )
    assert "<b>bold</b>" not in html and "49" not in html.split("<main>")[1].split("</main>")[
        0
    ].replace("2049", "")
    pdf = Pdf(dn_docs.render_pdf(data))
    assert pdf.contains(text), (label, text)


@pytest.mark.parametrize(("label", "data", "field"), REFUSED[1:], ids=[c[0] for c in REFUSED[1:]])
def test_hostile_input_is_refused_quickly_naming_the_field(
    label: str, data: dict[str, Any], field: str
) -> None:
    started = time.perf_counter()
    with pytest.raises(RequestError) as caught:
        dn_docs.render_pdf(data)
    assert time.perf_counter() - started < 1.0
    assert caught.value.first.startswith(field + ": "), caught.value.first
    assert "\n" not in str(caught.value)


def test_path_traversal_in_patient_id_is_only_printed(tmp_path: Path) -> None:
    source = tmp_path / "rows.jsonl"
    row = make_request(patient={"id": "../../etc/passwd"})
    source.write_text(json.dumps(row) + "\n")
    out = tmp_path / "out"
    run_batch(source, out, LocalDispatcher(workers=1))
    assert (
        sorted(p.name for p in out.iterdir())
        == ["errors.csv", "manifest.json", "merged-consent.pdf", "00001-consent-en.pdf"][:0]
        or (out / "00001-consent-en.pdf").exists()
    )
    assert all(p.parent == out for p in out.rglob("*"))
    assert Pdf((out / "00001-consent-en.pdf").read_bytes()).contains("../../etc/passwd")


def test_bidi_overrides_cannot_reverse_a_printed_name() -> None:
    spoofed = dn_docs.render_document(make_request(patient={"name": "Ann \u202eeeL\u202c Smith"}))
    assert "\u202e" not in spoofed.composed.html
    assert "Ann eeL Smith" in spoofed.composed.text
    # Names are wrapped in first-strong isolates, so an Arabic name cannot pull the
    # surrounding English label into right-to-left order.
    html = dn_docs.render_html(make_request(patient={"name": "ليلى حداد"}))
    assert "\u2068ليلى حداد\u2069" in html


def test_zero_width_characters_are_removed_but_joiners_kept() -> None:
    request = parse_request(make_request(patient={"name": "Ad\u200bmin", "id": "\ufeffP1"}))
    assert request.patient.name == "Admin" and request.patient.id == "P1"
    persian = parse_request(make_request("fa", patient={"name": "می\u200cخواهم"}))
    assert "\u200c" in persian.patient.name


def test_a_long_word_wraps_instead_of_running_off_the_page() -> None:
    word = "Wolfeschlegelsteinhausenbergerdorff" * 3  # 105 characters, no spaces
    pdf = Pdf(dn_docs.render_pdf(make_request(patient={"name": word})))
    width = pdf.page_size[0]
    for fragment in pdf.fragments(0):
        assert fragment.x < width
    assert pdf.contains(word)


def test_megabyte_request_file_is_refused_quickly(tmp_path: Path) -> None:
    source = tmp_path / "big.json"
    source.write_text(json.dumps(make_request(patient={"name": "x" * 2**20})))
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["render", str(source), "-o", str(tmp_path / "o.pdf")])
    assert time.perf_counter() - started < 1.0
    assert result.exit_code == 2 and "larger than" in result.stderr
    assert not (tmp_path / "o.pdf").exists()


def test_hostile_cases_number_at_least_sixty() -> None:
    assert len(LITERAL) + len(REFUSED) + 4 >= 60


# Clinic logo ---------------------------------------------------------------------------


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "navy").save(buffer, "PNG")
    return buffer.getvalue()


PNG_1PX = _png()


@pytest.fixture
def assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "assets"
    folder.mkdir()
    monkeypatch.setenv("DN_DOCS_ASSETS_DIR", str(folder))
    return folder


def test_logo_from_the_assets_folder_is_printed(assets: Path) -> None:
    (assets / "logo.png").write_bytes(PNG_1PX)
    data = dn_docs.render_pdf(make_request(clinic={"logo": "logo.png"}))
    with pikepdf.open(io.BytesIO(data)) as pdf:
        images = [k for page in pdf.pages for k in page.get_images()]
    assert images


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.png", None, "no such file"),
        ("fake.png", b"not a png at all", "is not a PNG"),
        ("big.png", PNG_1PX + b"\0" * 600_000, "larger than"),
    ],
)
def test_bad_logos_are_refused(assets: Path, name: str, content: bytes | None, reason: str) -> None:
    if content is not None:
        (assets / name).write_bytes(content)
    with pytest.raises(RequestError, match=f"clinic.logo: .*{reason}"):
        dn_docs.render_pdf(make_request(clinic={"logo": name}))


def test_logo_symlink_out_of_the_folder_is_refused(assets: Path) -> None:
    (assets / "link.png").symlink_to("/etc/passwd")
    with pytest.raises(RequestError, match=r"clinic\.logo: must name a file inside"):
        dn_docs.render_pdf(make_request(clinic={"logo": "link.png"}))


@pytest.mark.weasyprint_may_warn
def test_svg_logo_that_reaches_outside_is_refused(assets: Path, listener) -> None:
    base, hits = listener
    (assets / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        f'<image xlink:href="{base}/x.png" width="5" height="5"/></svg>'
    )
    with pytest.raises(dn_docs.RenderError, match="could not be loaded"):
        dn_docs.render_pdf(make_request(clinic={"logo": "logo.svg"}))
    assert hits == []


# Patient-data hygiene ---------------------------------------------------------------


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_logs_results_and_reports_carry_no_patient_data(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    write_batch(source, rows=8, invalid_every=4)
    handler = _Everything()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        out = tmp_path / "out"
        summary = run_batch(source, out, LocalDispatcher(workers=1), clinic_defaults())
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    assert summary.done > 0 and any("job" in line for line in handler.lines)
    secrets = ["Patient Number", "ID-1", "1941-02-02", "1940-01-01"]
    logged = "\n".join(handler.lines)
    for secret in secrets:
        assert secret not in logged
        assert secret not in (out / "manifest.json").read_text()
        assert secret not in (out / "errors.csv").read_text()
        assert secret not in str(summary)


def test_refused_consent_results_do_not_name_the_screening_answer(tmp_path: Path) -> None:
    from dn_docs.batch.jobs import run_job

    request = make_request()
    request["screening"]["needle_phobia"] = True
    result = run_job(
        {
            "request": request,
            "out_dir": str(tmp_path),
            "file": "x.pdf",
            "generated_at": "2026-11-21T00:00:00+00:00",
        }
    )
    assert result["status"] == "failed" and "phobia" not in json.dumps(result)
    source = tmp_path / "rows.jsonl"
    source.write_text(json.dumps(request) + "\n")
    summary = run_batch(source, tmp_path / "out", LocalDispatcher(workers=1))
    report = (tmp_path / "out" / "errors.csv").read_text()
    assert summary.invalid_rows == 1 and "consent refused" in report and "phobia" not in report


def test_outputs_are_owner_only(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    write_batch(source, rows=2)
    out = tmp_path / "out"
    run_batch(source, out, LocalDispatcher(workers=1), clinic_defaults())
    assert out.stat().st_mode & 0o777 == 0o700
    for path in out.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path.name


def test_purge_removes_old_outputs_and_their_manifest_entries(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    expected, _ = write_batch(source, rows=4)
    out = tmp_path / "out" / "2026-10-01"
    run_batch(source, out, LocalDispatcher(workers=1), clinic_defaults())
    old = time.time() - 40 * 86400
    pdfs = sorted(out.glob("0*.pdf"))
    for path in pdfs[:2]:
        os.utime(path, (old, old))
    result = CliRunner().invoke(
        main, ["purge", "--out", str(tmp_path / "out"), "--older-than", "30d"]
    )
    assert result.exit_code == 0, result.output
    entries = json.loads((out / "manifest.json").read_text())["documents"]
    assert len(entries) == expected - 2
    assert {e["file"] for e in entries} == {p.name for p in pdfs[2:]}
    assert not pdfs[0].exists() and pdfs[2].exists()
    for path in out.iterdir():
        os.utime(path, (old, old))
    CliRunner().invoke(main, ["purge", "--out", str(tmp_path / "out"), "--older-than", "30d"])
    assert not out.exists()
    bad = CliRunner().invoke(main, ["purge", "--out", str(tmp_path), "--older-than", "soon"])
    assert bad.exit_code == 2 and "--older-than" in bad.stderr


# Archival PDFs and verification ------------------------------------------------------


def test_consent_is_pdf_a_3u_with_fonts_embedded_and_an_output_intent() -> None:
    assert_pdf_a_3u(dn_docs.render_pdf(make_request("ar")), "ar")


def test_pdf_a_can_be_turned_off() -> None:
    data = dn_docs.render_pdf(make_request(options={"pdf_a": False}))
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.open_metadata().get("pdfaid:part") is None


def test_consent_record_describes_the_document() -> None:
    document = dn_docs.render_document(make_request("es"))
    record = read_record(document.pdf)
    assert record["request"]["patient"]["name"] == "María José Fernández"
    assert record["content_items"] == list(document.composed.selection.ids)
    assert record["text_sha256"] == document.composed.text_hash
    assert record["versions"]["catalog"] == dn_docs.CATALOG_VERSION
    assert record["versions"]["translation"].startswith("es-")
    assert len(record["page_text_sha256"]) == document.pages
    assert "generated_at" in record


def test_verify_says_unsigned_with_matching_text_for_unsealed_pdfs(tmp_path: Path) -> None:
    # Sealed documents are verified in test_verification.py.
    for locale in ("en", "ar", "zh_Hans"):
        path = tmp_path / f"{locale}.pdf"
        path.write_bytes(dn_docs.render_pdf(make_request(locale)))
        result = CliRunner().invoke(main, ["verify", str(path)])
        first, *rest = result.output.splitlines()
        assert result.exit_code == 2, result.output
        assert first.endswith(": unsigned: the document carries no seal"), result.output
        assert any(line.strip().startswith("text: matches the consent record") for line in rest)


def test_verify_says_modified_when_text_was_changed_with_a_pdf_library(tmp_path: Path) -> None:
    original = dn_docs.render_pdf(make_request())
    with pikepdf.open(io.BytesIO(original)) as pdf:
        page = pdf.pages[1]
        data = page.Contents.read_bytes()
        # Swap two glyphs in the first text object: a one-character edit.
        start = data.index(b"<", data.index(b"BT"))
        edited = (
            data[: start + 1]
            + data[start + 3 : start + 5]
            + data[start + 1 : start + 3]
            + data[start + 5 :]
        )
        assert edited != data
        page.Contents.write(edited)
        buffer = io.BytesIO()
        pdf.save(buffer)
    path = tmp_path / "edited.pdf"
    path.write_bytes(buffer.getvalue())
    assert compare_text(original).matches
    result = compare_text(path.read_bytes())
    assert not result.matches and "page 2" in str(result)
    cli = CliRunner().invoke(main, ["verify", str(path)])
    assert cli.exit_code == 1 and "modified" in cli.output and "page 2" in cli.output


def test_verify_reports_a_pdf_without_a_record_or_seal_as_unsigned(tmp_path: Path) -> None:
    path = tmp_path / "handout.pdf"
    path.write_bytes(dn_docs.render_pdf(make_request(kind="aftercare")))
    result = CliRunner().invoke(main, ["verify", str(path)])
    assert result.exit_code == 2 and ": unsigned: " in result.output
    assert "no consent record" in result.output
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf")
    result = CliRunner().invoke(main, ["verify", str(junk)])
    assert result.exit_code == 2 and "not a readable PDF" in result.stderr


def _bomb_png(width: int, height: int) -> bytes:
    """A valid grey PNG of ``width`` x ``height`` black pixels: a few hundred KiB that
    unpack to ``width * height`` bytes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    packer = zlib.compressobj(9)
    line = b"\0" * (width + 1)
    body = b"".join(packer.compress(line) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_logo_is_refused_before_decoding(assets: Path) -> None:
    bomb = _bomb_png(12_000, 12_000)  # 144 million pixels in under 512 KiB
    assert len(bomb) < 512 * 1024
    (assets / "bomb.png").write_bytes(bomb)
    started = time.perf_counter()
    with pytest.raises(RequestError, match=r"clinic\.logo: is 12000 x 12000 pixels"):
        dn_docs.render_pdf(make_request(clinic={"logo": "bomb.png"}))
    assert time.perf_counter() - started < 1.0  # decoding it would take seconds
