"""The command line, run in-process through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from helpers import Pdf, make_request

from dn_docs import locales
from dn_docs.cli import main


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_render_writes_a_pdf_with_overrides(tmp_path: Path) -> None:
    source = _write(tmp_path, make_request())
    target = tmp_path / "handout.pdf"
    result = CliRunner().invoke(
        main, ["render", str(source), "-o", str(target), "--kind", "aftercare", "--locale", "es-MX"]
    )
    assert result.exit_code == 0, result.output
    pdf = Pdf(target.read_bytes())
    assert pdf.lang == "es"
    assert pdf.metadata["/Title"].startswith("Cuidados")
    assert target.stat().st_mode & 0o777 == 0o600


def test_render_html(tmp_path: Path) -> None:
    source = _write(tmp_path, make_request())
    target = tmp_path / "form.html"
    result = CliRunner().invoke(main, ["render", str(source), "-o", str(target), "--html"])
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_refused_consent_is_one_line_without_a_file(tmp_path: Path) -> None:
    source = _write(tmp_path, make_request(screening={"needle_phobia": True}))
    target = tmp_path / "out.pdf"
    result = CliRunner().invoke(main, ["render", str(source), "-o", str(target)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "needle phobia" in result.stderr
    assert not target.exists()


def test_demo_renders_both_kinds_in_every_locale(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "demo").glob("*.pdf"))
    # The special editions: bilingual, large print, language help, answered at the desk.
    assert len(files) == 2 * len(locales.SUPPORTED) + 4
    desk = Pdf(files[-1].read_bytes())
    assert desk.contains("Do any of these apply to you? Tick Yes or No for each one.")
    assert desk.contains("up to 6 sessions")
    names = " ".join(f.name for f in files)
    assert "-bilingual" in names and "-large-print" in names and "-language-assistance" in names
    seen = set()
    for path in files:
        pdf = Pdf(path.read_bytes())
        kind = "consent" if "-consent-" in path.name else "aftercare"
        seen.add((pdf.lang, kind))
        assert pdf.pages >= 1
    assert seen == {
        (loc.replace("_", "-"), k) for loc in locales.SUPPORTED for k in ("consent", "aftercare")
    }


def test_locales_list() -> None:
    result = CliRunner().invoke(main, ["locales", "list"])
    assert result.exit_code == 0
    assert "ar" in result.output and "rtl" in result.output


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["render", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr
