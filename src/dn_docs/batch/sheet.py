"""What every batch reader gives: numbered rows of cells (CSV, workbooks) or of request
objects (JSON Lines), and the rows it could not read, each under the number a
spreadsheet or an editor shows for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RowError:
    """A row, or one of its documents, refused: where, which field, why.

    ``column`` is the header as the file writes it (empty when the field came from the
    clinic's defaults or a JSON Lines object); ``value`` says what kind of value was
    there, never the value itself: it may be patient data.
    """

    row: int
    field: str
    reason: str
    column: str = ""
    value: str = ""


@dataclass(frozen=True)
class Note:
    """A row that holds no patient: blank, or a note (its first cell starts with ``#``)."""

    row: int
    blank: bool


#: One row of a file: its cells (tabular files), its object (JSON Lines), a RowError,
#: or a Note.
Row = tuple[int, list[Any]] | tuple[int, dict[str, Any]] | RowError | Note


@dataclass
class Sheet:
    """A tabular file's header and its rows after the header."""

    header: list[str]
    rows: Iterator[RowError | Note | tuple[int, list[Any]]]
    warnings: list[str] = field(default_factory=list)


def is_blank(cells: list[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def is_note(cells: list[Any]) -> bool:
    return bool(cells) and isinstance(cells[0], str) and cells[0].lstrip().startswith("#")


def classify(number: int, cells: list[Any]) -> Note | tuple[int, list[Any]]:
    """A data row, or the Note it is."""
    if is_blank(cells):
        return Note(number, blank=True)
    if is_note(cells):
        return Note(number, blank=False)
    return number, cells


def width(cells: list[Any]) -> int:
    """How many cells a row has, trailing empty cells not counted."""
    count = len(cells)
    while count and (cells[count - 1] is None or cells[count - 1] == ""):
        count -= 1
    return count
