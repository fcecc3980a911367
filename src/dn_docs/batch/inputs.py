"""Batch input: CSV or JSON Lines rows plus the clinic's defaults, validated into jobs.

Every row is validated before anything is rendered. A bad row becomes a
:class:`RowError` (row number, field, reason) and the good rows still run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..content import select
from ..errors import ConsentRefusedError, RequestError
from ..limits import MAX_INPUT_BYTES
from ..request import parse_request

KINDS = ("consent", "aftercare")
# Fields that hold lists in a CSV cell, separated by ";".
_LIST_FIELDS = {"session.areas"}


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
        canonical = json.dumps(self.request, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    reason: str


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


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for number, record in enumerate(reader, start=2):  # the header is row 1, as in a spreadsheet
        data: dict[str, Any] = {}
        extra = record.pop(None, None)
        if extra:
            raise RowShapeError(number, "row", "has more cells than the header")
        for column, cell in record.items():
            if cell is None or not cell.strip():
                continue
            value: Any = cell.strip()
            if column in _LIST_FIELDS:
                value = [part.strip() for part in value.split(";") if part.strip()]
            _set_dotted(data, column.strip(), value)
        yield number, data


def _jsonl_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RowShapeError(number, "row", f"not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise RowShapeError(number, "row", "must be a JSON object")
        yield number, data


class RowShapeError(Exception):
    def __init__(self, row: int, field: str, reason: str) -> None:
        super().__init__(f"row {row}: {field}: {reason}")
        self.error = RowError(row, field, reason)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """The rows of a CSV or JSON Lines file; a row that cannot be read yields a RowError."""
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise RequestError([(str(path), f"is larger than {MAX_INPUT_BYTES // 2**20} MiB")])
    raw = path.read_bytes()
    is_jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
    lines = raw.split(b"\n")
    bad_lines = set()
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad_lines.add(number)
    text = "\n".join(
        ("" if n in bad_lines else line.decode("utf-8")) for n, line in enumerate(lines, start=1)
    )
    for number in sorted(bad_lines):
        yield number, RowError(number, "row", "is not valid UTF-8 text")
    rows = _jsonl_rows(text) if is_jsonl else _csv_rows(text.removeprefix("\ufeff"))
    while True:
        try:
            number, data = next(rows)
        except StopIteration:
            return
        except RowShapeError as exc:
            yield exc.error.row, exc.error
            continue
        except RequestError as exc:
            yield 0, RowError(0, *exc.errors[0])
            continue
        if number not in bad_lines:
            yield number, data


def plan(path: Path, defaults: dict[str, Any] | None = None) -> tuple[list[Job], list[RowError]]:
    """Validate every row of ``path`` and return the jobs to render and the rows refused."""
    jobs: list[Job] = []
    errors: list[RowError] = []
    for number, data in read_rows(path):
        if isinstance(data, RowError):
            errors.append(data)
            continue
        kinds_value = data.pop("kind", None)
        kinds = list(
            dict.fromkeys(k.strip() for k in str(kinds_value or "").split(";") if k.strip())
        )
        if not kinds:
            errors.append(RowError(number, "kind", "is required (consent, aftercare or both)"))
            continue
        for kind in kinds:
            try:
                request = parse_request(merge_defaults(defaults or {}, {**data, "kind": kind}))
                select(request)
            except RequestError as exc:
                errors.extend(RowError(number, field, reason) for field, reason in exc.errors)
                continue
            except ConsentRefusedError:
                errors.append(RowError(number, "screening", ConsentRefusedError.public_message))
                continue
            jobs.append(Job(number, kind, request.locale, request.model_dump(mode="json")))
    # A row asked for both kinds fails validation once per kind; report each problem once.
    return jobs, list(dict.fromkeys(errors))
