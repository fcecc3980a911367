"""Batch input: a spreadsheet, CSV or JSON Lines file plus the clinic's defaults,
validated into jobs.

Every row is validated before anything is rendered, and every row is accounted for:
it gives its jobs, or :class:`RowError` s (row number, column, field, reason), or it
is blank or a note. The good rows still run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..content import select
from ..errors import ConsentRefusedError, RequestError
from ..limits import MAX_INPUT_BYTES
from ..request import parse_request
from . import columns
from .cells import CellError, DateFormat, Reading, clinic_language, convert, describe
from .csvtext import read_csv
from .jsonlines import read_json_lines
from .sheet import Note, RowError, Sheet
from .workbook import read_workbook

KINDS = ("consent", "aftercare")
#: Suffixes read as workbooks and as JSON Lines; anything else is read as CSV.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
#: The key of ``clinic.json`` that gives the batch's date format (not a request field).
DATE_FORMAT_KEY = "date_format"


@dataclass(frozen=True)
class InputOptions:
    """How to read a batch file when its own shape does not say: ``--delimiter``,
    ``--encoding`` and ``--date-format``."""

    delimiter: str | None = None
    encoding: str | None = None
    date_format: str | None = None


@dataclass(frozen=True)
class Job:
    """One document to render: a validated request for one row and one kind."""

    row: int
    kind: str
    locale: str
    request: dict[str, Any]

    @property
    def file_name(self) -> str:
        # Only the row number and validated ids: nothing a patient field controls.
        return f"{self.row:05d}-{self.kind}-{self.locale}.pdf"

    @property
    def input_sha256(self) -> str:
        return request_sha256(self.request)

    @property
    def appointment(self) -> str | None:
        """The session's time of day, ``HH:MM:SS``, if the row gives one."""
        time = self.request.get("session", {}).get("time")
        return str(time) if time else None


def request_sha256(request: dict[str, Any]) -> str:
    """The SHA-256 of a validated request: what --resume compares."""
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = target
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise RequestError([(dotted, f"'{part}' is not an object")])
        node = child
    node[leaf] = value


def merge_defaults(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it, nested objects merged key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_defaults(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class Plan:
    """Every row of a batch file, accounted for."""

    jobs: list[Job] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: The number of every row that holds a patient: each ends rendered, refused or failed.
    rows: list[int] = field(default_factory=list)
    blank_rows: int = 0
    note_rows: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def refused_rows(self) -> set[int]:
        return {error.row for error in self.errors}


def _date_format(given: Any, options: InputOptions) -> DateFormat | None:
    if options.date_format:
        return DateFormat.parse(options.date_format)
    if given is None:
        return None
    if not isinstance(given, str):
        raise RequestError([(f"clinic.json {DATE_FORMAT_KEY}", "must be text such as DD.MM.YYYY")])
    return DateFormat.parse(given, f"clinic.json {DATE_FORMAT_KEY}")


def _header_fields(header: list[str]) -> tuple[dict[int, columns.Column], list[str]]:
    """Column index → the field it fills, and the headers that name no field."""
    known: dict[int, columns.Column] = {}
    seen: dict[str, str] = {}
    unknown = []
    for index, text in enumerate(header):
        path = columns.field_for(text)
        if path is None:
            if text:
                unknown.append(text[:40])
            continue
        if path in seen:
            raise RequestError(
                [("header", f"columns '{seen[path][:40]}' and '{text[:40]}' both give {path}")]
            )
        seen[path] = text
        known[index] = columns.fields()[path]
    if not known:
        raise RequestError(
            [
                (
                    "header",
                    "names no column dn-docs reads (such as Kind, Patient name, Date of "
                    "birth); `dn-docs batch template` writes a file to start from",
                )
            ]
        )
    return known, unknown


def read_sheet(path: Path, raw: bytes, options: InputOptions) -> Sheet:
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return read_workbook(path)
    return read_csv(
        raw,
        lambda text: columns.field_for(text) is not None,
        encoding=options.encoding,
        separator=options.delimiter,
    )


def _sheet_rows(
    sheet: Sheet, defaults: dict[str, Any], date_format: DateFormat | None, plan: Plan
) -> Iterator[RowError | Note | tuple[int, dict[str, Any], dict[str, str]]]:
    """Each row of ``sheet`` as request data (with the header each field came from)."""
    known, unknown = _header_fields(sheet.header)
    if unknown:
        plan.warnings.append("ignored columns (not request fields): " + ", ".join(unknown))
    language_column = next((i for i, c in known.items() if c.field == "clinic.language"), None)
    default_language = clinic_language((defaults.get("clinic") or {}).get("language"))
    sources = {column.field: sheet.header[index] for index, column in known.items()}
    for item in sheet.rows:
        if isinstance(item, RowError | Note):
            yield item
            continue
        number, cells = item
        language = default_language
        if language_column is not None and language_column < len(cells):
            language = (
                clinic_language(cells[language_column]) if cells[language_column] else language
            )
        reading = Reading(date_format, language)
        data: dict[str, Any] = {}
        problems = []
        for index, column in known.items():
            cell = cells[index] if index < len(cells) else None
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                continue
            try:
                _set_dotted(data, column.field, convert(column, cell, reading))
            except CellError as exc:
                problems.append(
                    RowError(number, column.field, exc.reason, sources[column.field], exc.value)
                )
        if problems:
            yield from problems
            continue
        yield number, data, sources


def _rows(
    path: Path,
    defaults: dict[str, Any],
    date_format: DateFormat | None,
    options: InputOptions,
    plan: Plan,
) -> Iterator[RowError | Note | tuple[int, dict[str, Any], dict[str, str]]]:
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise RequestError([(str(path), f"is larger than {MAX_INPUT_BYTES // 2**20} MiB")])
    raw = path.read_bytes()
    if path.suffix.lower() in JSON_LINES_SUFFIXES:
        for item in read_json_lines(raw):
            yield item if isinstance(item, RowError | Note) else (*item, {})
        return
    yield from _sheet_rows(read_sheet(path, raw, options), defaults, date_format, plan)


def _kinds(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = value.split(";")
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        return None
    return list(dict.fromkeys(k.strip() for k in value if k.strip()))


def _value_at(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.replace("[", ".").replace("]", "").split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _refusals(
    number: int, exc: RequestError, request: dict[str, Any], sources: dict[str, str]
) -> Iterable[RowError]:
    for path, reason in exc.errors:
        base = path.split("[", 1)[0]
        yield RowError(
            number, path, reason, sources.get(base, ""), describe(_value_at(request, path))
        )


def plan(
    path: Path, defaults: dict[str, Any] | None = None, options: InputOptions | None = None
) -> Plan:
    """Validate every row of ``path``: the jobs to render, the rows refused, the rest."""
    defaults = dict(defaults or {})
    options = options or InputOptions()
    result = Plan()
    date_format = _date_format(defaults.pop(DATE_FORMAT_KEY, None), options)
    for item in _rows(path, defaults, date_format, options, result):
        if isinstance(item, Note):
            if item.blank:
                result.blank_rows += 1
            else:
                result.note_rows += 1
            continue
        if isinstance(item, RowError):
            if not result.rows or result.rows[-1] != item.row:
                result.rows.append(item.row)
            result.errors.append(item)
            continue
        number, data, sources = item
        result.rows.append(number)
        kinds = _kinds(data.pop("kind", None))
        if kinds is None:
            result.errors.append(
                RowError(
                    number, "kind", "must be consent, aftercare or both", sources.get("kind", "")
                )
            )
            continue
        if not kinds:
            result.errors.append(
                RowError(
                    number,
                    "kind",
                    "is required (consent, aftercare or both)",
                    sources.get("kind", ""),
                )
            )
            continue
        for kind in kinds:
            request = merge_defaults(defaults, {**data, "kind": kind})
            try:
                validated = parse_request(request)
                select(validated)
            except RequestError as exc:
                result.errors.extend(_refusals(number, exc, request, sources))
                continue
            except ConsentRefusedError:
                result.errors.append(
                    RowError(number, "screening", ConsentRefusedError.public_message)
                )
                continue
            except RecursionError:
                result.errors.append(
                    RowError(number, "row", "is nested too deeply to be a request")
                )
                continue
            result.jobs.append(
                Job(number, kind, validated.locale, validated.model_dump(mode="json"))
            )
    # A row asked for both kinds fails validation once per kind; report each problem once.
    result.errors = list(dict.fromkeys(result.errors))
    return result
