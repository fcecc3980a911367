"""Batch input as front desks have it: malformed files, five exports of one day,
spreadsheet dates, yes/no and headers, and the template."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from batch_support import EXPORTS, GERMAN_CLINIC, HEADER, clinic_defaults
from click.testing import CliRunner
from helpers import Pdf
from hypothesis import given, settings
from hypothesis import strategies as st

from dn_docs.batch import InputOptions, LocalDispatcher, plan, run_batch
from dn_docs.batch.cells import DateFormat, Reading, convert
from dn_docs.batch.columns import Column, Kind, field_for
from dn_docs.cli import main
from dn_docs.errors import RequestError

WHEN = dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)


def errors_csv(folder: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((folder / "errors.csv").read_text(encoding="utf-8").splitlines()))


def manifest(folder: Path) -> list[dict]:
    return json.loads((folder / "manifest.json").read_text())["documents"]


def good_row(number: int) -> list[str]:
    """A row whose patient's name says which spreadsheet row it is on."""
    return [
        "aftercare",
        "en",
        f"Zoë Row {number}",
        "1980-03-04",
        f"ID-{number}",
        "2026-12-01",
        "knee",
        "",
        "no",
        *(["no"] * 2),
        "yes",
        *(["no"] * 6),
    ]


def check_rows_rendered_under_their_numbers(out: Path, rows: list[int]) -> None:
    """Each good row has exactly its own PDF, and that PDF names that row's patient."""
    entries = {e["row"]: e for e in manifest(out)}
    assert sorted(entries) == rows
    for row in rows:
        entry = entries[row]
        assert entry["status"] == "done" and entry["file"].startswith(f"{row:05d}-")
        assert Pdf((out / entry["file"]).read_bytes()).contains(f"Zoë Row {row}")


def test_malformed_csv_rows_mid_file_lose_and_mislabel_nothing(tmp_path: Path) -> None:
    lines: list[bytes] = []

    def add(cells: list[str] | str) -> None:
        if isinstance(cells, list):
            buffer = io.StringIO()
            csv.writer(buffer).writerow(cells)
            cells = buffer.getvalue().rstrip("\r\n")
        lines.append(cells.encode("utf-8"))

    add([*HEADER, "notes"])  # row 1
    add([*good_row(2), ""])
    # Row 3: a name with an unquoted comma gives one cell more than the header.
    lines.append(",".join([*good_row(3), "a note"]).replace("Zoë Row 3", "Smith, Ann").encode())
    add([*good_row(4), ""])
    lines.append(b"")  # row 5: blank
    add([*good_row(6), ""])
    lines.append(",".join(good_row(7)).replace("Row 7", "R\xf6w 7").encode("latin-1"))  # bad bytes
    add([*good_row(8), "called twice,\nleft a message"])  # row 8: a quoted newline
    add([*good_row(9), ""])
    add(["aftercare", "en", "Line\u2028Separator", "1980-01-01"])  # row 10: unprintable, short
    add('aftercare,en,"Unclosed quote,1980-01-01,ID-11,2026-12-01,knee')  # row 11
    add([*good_row(12), ""])
    add(good_row(13)[:4])  # row 13: fewer cells, no session
    add([*good_row(14), ""])
    source = tmp_path / "day.csv"
    source.write_bytes(b"\r\n".join(lines) + b"\r\n")

    out = tmp_path / "out"
    summary = run_batch(source, out, LocalDispatcher(workers=2), clinic_defaults())
    good = [2, 4, 6, 8, 9, 12, 14]
    bad = [3, 7, 10, 11, 13]
    check_rows_rendered_under_their_numbers(out, good)
    report = errors_csv(out)
    assert sorted({int(r["row"]) for r in report}) == bad
    reasons: dict[int, str] = {}
    for r in report:
        reasons[int(r["row"])] = reasons.get(int(r["row"]), "") + " | " + r["reason"]
    assert "has 20 cells and the header 19" in reasons[3]
    assert "not valid UTF-8" in reasons[7]
    assert "U+2028" in reasons[10]
    assert "quote that is not closed" in reasons[11]
    assert "is required" in reasons[13]
    assert (summary.rows, summary.rows_rendered, summary.rows_refused) == (12, 7, 5)
    assert summary.rows == summary.rows_rendered + summary.rows_refused + summary.rows_failed
    assert summary.blank_rows == 1 and "12 rows: 7 rendered, 5 refused, 0 failed" in str(summary)
    # Nothing from the patients' cells is echoed.
    text = (out / "errors.csv").read_text()
    assert "Ann" not in text and "Separator" not in text and "Unclosed" not in text


def test_malformed_json_lines_mid_file_lose_and_mislabel_nothing(tmp_path: Path) -> None:
    def request(number: int) -> dict:
        return {
            "kind": "aftercare",
            "locale": "en",
            "patient": {"name": f"Zoë Row {number}", "date_of_birth": "1980-03-04"},
            "session": {"date": "2026-12-01", "areas": ["knee"]},
        }

    lines = [
        json.dumps(request(1), ensure_ascii=False).encode(),
        b'{"kind": "aftercare", "patient": ',  # 2: broken JSON
        json.dumps(request(3)).encode(),
        b"",  # 4: blank
        json.dumps(request(5)).encode()[:-1] + b"\xff}",  # 5: bad bytes
        # 6: a raw U+2028 inside a name is valid JSON: the row must stay one row.
        json.dumps(
            {**request(6), "patient": {"name": "A\u2028B", "date_of_birth": "1980-03-04"}},
            ensure_ascii=False,
        ).encode(),
        json.dumps(request(7), ensure_ascii=False).encode(),
        b"[" * 3000 + b"]" * 3000,  # 8: nested too deeply
        b'{"kind": "aftercare", "patient": {"id": ' + b"7" * 4400 + b"}}",  # 9: huge number
        b'["not", "an", "object"]',  # 10
        json.dumps({**request(11), "patient": {"name": "N", "date_of_birth": 19800304}}).encode(),
        json.dumps(request(12), ensure_ascii=False).encode(),
    ]
    source = tmp_path / "day.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"
    summary = run_batch(source, out, LocalDispatcher(workers=2), clinic_defaults())
    check_rows_rendered_under_their_numbers(out, [1, 3, 7, 12])
    reasons = {int(r["row"]): r for r in errors_csv(out)}
    assert sorted(reasons) == [2, 5, 6, 8, 9, 10, 11]
    assert "not valid JSON" in reasons[2]["reason"]
    assert "not valid UTF-8" in reasons[5]["reason"]
    assert "U+2028" in reasons[6]["reason"] and reasons[6]["field"] == "patient.name"
    assert "nested too deeply" in reasons[8]["reason"]
    assert "number too long" in reasons[9]["reason"]
    assert "must be a JSON object" in reasons[10]["reason"]
    assert (
        reasons[11]["field"] == "patient.date_of_birth" and "not a number" in reasons[11]["reason"]
    )
    assert reasons[11]["value"] == "number"
    assert (summary.rows, summary.rows_rendered, summary.rows_refused, summary.blank_rows) == (
        11,
        4,
        7,
        1,
    )


def test_cli_batch_with_a_broken_row_in_the_middle_exits_3_without_a_traceback(
    tmp_path: Path,
) -> None:
    source = tmp_path / "day.jsonl"
    source.write_text('{"kind": "aftercare"\n' + "[" * 5000 + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["batch", str(source), "--out", str(tmp_path / "o")])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert "2 rows: 0 rendered, 2 refused, 0 failed" in result.output


def test_five_exports_of_one_day_give_the_same_80_pdfs(
    tmp_path: Path, day_exports: dict[str, Path]
) -> None:
    outputs = {}
    for name, (_, _, extra, date_format) in EXPORTS.items():
        out = tmp_path / name
        summary = run_batch(
            day_exports[name],
            out,
            LocalDispatcher(workers=2),
            {**GERMAN_CLINIC, **extra},
            generated_at=WHEN,  # the generation time, pinned: everything else must match
            options=InputOptions(date_format=date_format),
            stacks=(),
        )
        assert (summary.rows, summary.done, summary.failed, summary.invalid_rows) == (40, 80, 0, 0)
        outputs[name] = {p.name: p.read_bytes() for p in sorted(out.glob("0*.pdf"))}
    first = outputs["xlsx"]
    assert len(first) == 80
    for name, pdfs in outputs.items():
        assert pdfs.keys() == first.keys(), name
        different = [file for file in pdfs if pdfs[file] != first[file]]
        assert not different, (name, different[:3])
    # And they hold what the day's rows say: accents, dates and yes/no read right.
    consent = Pdf(first["00002-consent-en.pdf"])
    assert consent.contains("José Núñez 1") and consent.contains("Praxis am Markt")
    record = json.loads(consent.reader.attachments["consent-record.json"][0])
    assert record["request"]["patient"]["date_of_birth"] == "1940-01-01"
    assert record["request"]["session"]["time"] == "08:00:00"
    assert record["request"]["screening"]["able_to_consent"] is True
    blood_thinners = json.loads(
        Pdf(first["00003-consent-es.pdf"]).reader.attachments["consent-record.json"][0]
    )
    assert blood_thinners["request"]["screening"]["blood_thinners"] is True


def test_unknown_columns_are_reported_once_and_ignored(day_exports: dict[str, Path]) -> None:
    planned = plan(day_exports["xlsx"], GERMAN_CLINIC)
    assert planned.warnings == ["ignored columns (not request fields): Phone, Notes"]
    assert not planned.errors and len(planned.jobs) == 80
    # The patient's phone is not taken for the clinic's.
    assert {job.request["clinic"]["phone"] for job in planned.jobs} == {"+49 30 1234567"}


def test_a_semicolon_file_is_read_as_such_not_refused_for_a_missing_kind(tmp_path: Path) -> None:
    source = tmp_path / "eu.csv"
    source.write_text(
        "Kind;Patient name;Date of birth;Appointment date;Areas\n"
        "aftercare;Anna;01.02.1980;13.12.2026;knee\n"
        "aftercare;Anna;13.02.1980;13.12.2026;Lower back, knee\n",
        encoding="utf-8",
    )
    planned = plan(source, {**clinic_defaults(), "locale": "de"})
    assert [(e.row, e.field, e.column) for e in planned.errors] == [
        (2, "patient.date_of_birth", "Date of birth")
    ]
    assert "day first or month first" in planned.errors[0].reason
    assert "--date-format" in planned.errors[0].reason
    assert len(planned.jobs) == 1
    assert planned.jobs[0].request["session"]["areas"] == ["lower_back", "knee"]
    assert planned.jobs[0].request["patient"]["date_of_birth"] == "1980-02-13"


def test_a_file_without_known_columns_is_refused_in_one_line(tmp_path: Path) -> None:
    source = tmp_path / "other.csv"
    source.write_text("Vorname,Nachname\nAnna,Schmidt\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["batch", str(source), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "names no column dn-docs reads" in result.stderr and "template" in result.stderr


DATES = [
    ("2026-12-07", None, "2026-12-07"),
    ("07.12.2026", "DD.MM.YYYY", "2026-12-07"),
    ("12/7/2026", "M/D/YYYY", "2026-12-07"),
    ("7/12/2026", "%d/%m/%Y", "2026-12-07"),
    ("2026-12-07", "DD.MM.YYYY", "2026-12-07"),  # ISO is always read
    ("23.11.2026", None, "2026-11-23"),  # only one reading is a date
    ("11/23/2026", None, "2026-11-23"),
    ("05/05/2026", None, "2026-05-05"),  # both readings are the same day
    (dt.datetime(2026, 12, 7), None, "2026-12-07"),  # a workbook's date cell
]


@pytest.mark.parametrize(("cell", "pattern", "expected"), DATES)
def test_dates_are_read_in_the_clinic_format(
    cell: object, pattern: str | None, expected: str
) -> None:
    reading = Reading(DateFormat.parse(pattern) if pattern else None)
    assert convert(Column("session.date", Kind.DATE), cell, reading) == expected


BAD_DATES = [
    ("03/04/2026", None, "day first or month first"),
    ("3/4/26", None, "four-digit year"),
    ("31.02.2026", "DD.MM.YYYY", "not a real date"),
    ("12/07/2026", "DD.MM.YYYY", "not a date in DD.MM.YYYY form"),
    (44000, None, "is a number, not a date"),
    ("next tuesday", None, "is not a date"),
]


@pytest.mark.parametrize(("cell", "pattern", "reason"), BAD_DATES)
def test_ambiguous_and_bad_dates_are_refused_with_a_hint(
    cell: object, pattern: str | None, reason: str
) -> None:
    from dn_docs.batch.cells import CellError

    reading = Reading(DateFormat.parse(pattern) if pattern else None)
    with pytest.raises(CellError) as caught:
        convert(Column("patient.date_of_birth", Kind.DATE), cell, reading)
    assert reason in caught.value.reason
    assert str(cell) not in caught.value.reason


def test_a_bad_date_format_option_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(RequestError, match="--date-format"):
        DateFormat.parse("dd-mmm-yy")


@pytest.mark.parametrize(
    ("language", "cell", "expected"),
    [
        ("en", "Y", True),
        ("en", "no", False),
        ("en", "TRUE", True),
        ("de", "Ja", True),
        ("de", "NEIN", False),
        ("de", "WAHR", True),
        ("es", "sí", True),
        ("fr", "non", False),
        ("en", True, True),
        ("en", 0, False),
    ],
)
def test_yes_and_no_in_the_clinic_language(language: str, cell: object, expected: bool) -> None:
    column = Column("screening.pregnant", Kind.YES_NO)
    assert convert(column, cell, Reading(language=language)) is expected


def test_yes_in_another_language_than_the_clinic_is_refused() -> None:
    from dn_docs.batch.cells import CellError

    with pytest.raises(CellError, match="yes/no or oui/non"):
        convert(Column("screening.pregnant", Kind.YES_NO), "ja", Reading(language="fr"))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("14:30", "14:30"),
        ("2:30 PM", "14:30"),
        ("9 am", "09:00"),
        ("12:15 a.m.", "00:15"),
        (dt.time(8, 5), "08:05"),
        ("08:00:00", "08:00"),
    ],
)
def test_appointment_times(cell: object, expected: str) -> None:
    assert convert(Column("session.time", Kind.TIME), cell, Reading()) == expected


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Kind", "kind"),
        ("KIND", "kind"),
        ("Patient name", "patient.name"),
        ("patient_name", "patient.name"),
        ("Date of birth", "patient.date_of_birth"),
        ("DOB", "patient.date_of_birth"),
        ("Pregnant?", "screening.pregnant"),
        ("Blood thinners", "screening.blood_thinners"),
        ("Appointment time", "session.time"),
        ("Large print", "options.large_print"),
        ("clinic.address", "clinic.address"),
        ("Phone", None),
        ("Notes", None),
    ],
)
def test_headers_match_by_name_and_label(header: str, field: str | None) -> None:
    assert field_for(header) == field


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_template_reads_back_and_renders(tmp_path: Path, kind: str) -> None:
    target = tmp_path / f"template.{kind}"
    result = CliRunner().invoke(main, ["batch", "template", "--format", kind, "-o", str(target)])
    assert result.exit_code == 0, result.output
    if kind == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(target)
        assert book.sheetnames == ["Patients", "Allowed values"]
        header = [cell.value for cell in book["Patients"][1]]
        allowed = {row[0]: row[1] for row in book["Allowed values"].iter_rows(values_only=True)}
        assert "lower_back" in allowed["Areas"] and "consent;aftercare" in allowed["Kind"]
        assert book["Patients"].data_validations.dataValidation
    else:
        rows = list(csv.reader(target.read_text(encoding="utf-8-sig").splitlines()))
        header = rows[0]
        assert (
            rows[1][0].startswith("# allowed:") and "lower_back" in rows[1][header.index("Areas")]
        )
    assert header[:3] == ["Kind", "Language", "Patient name"]
    out = tmp_path / "out"
    clinic = tmp_path / "clinic.json"
    clinic.write_text(json.dumps(clinic_defaults()))
    run = CliRunner().invoke(
        main,
        [
            "batch",
            str(target),
            "--clinic",
            str(clinic),
            "--out",
            str(out),
            "--workers",
            "1",
            "--stacks",
            "none",
        ],
    )
    assert run.exit_code == 0, run.output
    assert "1 rows: 1 rendered, 0 refused, 0 failed" in run.output
    assert sorted(p.name for p in out.glob("0*.pdf")) == [
        f"{2 if kind == 'xlsx' else 3:05d}-{k}-es.pdf" for k in ("aftercare", "consent")
    ]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["csv", "jsonl"]),
    st.integers(0, 2000),
    st.binary(max_size=40),
)
def test_damaged_files_never_end_in_a_traceback(kind: str, at: int, junk: bytes) -> None:
    """Junk bytes anywhere in a file: a one-line refusal of the file, or every row counted."""
    import tempfile

    good = "\n".join(",".join(good_row(n)) for n in range(2, 8))
    text = (
        ",".join(HEADER) + "\n" + good
        if kind == "csv"
        else "\n".join(
            json.dumps({"kind": "aftercare", "patient": {"name": f"N{n}"}}) for n in range(6)
        )
    )
    raw = text.encode()
    raw = raw[: at % (len(raw) + 1)] + junk + raw[at % (len(raw) + 1) :]
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"day.{kind}"
        source.write_bytes(raw)
        try:
            planned = plan(source, clinic_defaults())
        except RequestError as exc:
            assert "\n" not in str(exc)
            return
    counted = {job.row for job in planned.jobs} | planned.refused_rows
    assert counted == set(planned.rows)
    assert len(planned.rows) + planned.blank_rows + planned.note_rows <= raw.count(b"\n") + 1
