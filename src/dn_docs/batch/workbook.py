"""Excel workbooks (.xlsx), read directly: the first worksheet, rows numbered as Excel
shows them, cells with their own types (dates, times, numbers, true/false)."""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import RequestError
from .sheet import Note, RowError, Sheet, classify, width

#: The most rows read from a worksheet: a small workbook can unpack to millions of rows.
MAX_ROWS = 100_000


def read_workbook(path: Path) -> Sheet:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it does not read; none matter here.
            warnings.simplefilter("ignore")
            book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise RequestError([("file", "is not a readable .xlsx workbook")]) from None
    if not book.worksheets:
        book.close()
        raise RequestError([("file", "has no worksheet")])
    sheet = book.worksheets[0]
    # Other programs write the size of a sheet wrongly or not at all.
    sheet.reset_dimensions()
    rows = _rows(book, sheet)
    for number, cells in rows:
        if width(cells):
            header = [str(cell).strip() if cell is not None else "" for cell in cells]
            return Sheet(header, _data(rows, number))
    book.close()
    raise RequestError([("file", "has no header row")])


def _rows(book: Any, sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1):
                yield number, list(values)
    finally:
        book.close()


def _data(
    rows: Iterator[tuple[int, list[Any]]], header_row: int
) -> Iterator[RowError | Note | tuple[int, list[Any]]]:
    for number, cells in rows:
        if number - header_row > MAX_ROWS:
            yield RowError(number, "file", f"has more than {MAX_ROWS} rows; the rest were not read")
            return
        yield classify(number, cells)
