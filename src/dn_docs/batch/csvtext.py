"""CSV files as spreadsheets write them: encoding and separator found, rows numbered
as a spreadsheet numbers them.

Excel writes UTF-8 (with a byte-order mark) or Windows-1252, commas or, in much of
Europe, semicolons; Google Sheets writes UTF-8 with commas; "Unicode text" is UTF-16
with tabs. A line that is not valid text in the file's encoding, a row with more
cells than the header and a quote that is never closed each refuse their own row
only: every later row keeps its number.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import RequestError
from .sheet import Note, RowError, Sheet, classify, is_blank, width

#: Separators tried on the header row, in order of preference when they tie.
SEPARATORS = (",", ";", "\t", "|")
_SEP_LINE = re.compile(r"sep=(.)\s*", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


_ENCODING_NAMES = {"utf-8": "UTF-8", "cp1252": "Windows-1252"}


@dataclass
class Text:
    """A file's text as physical lines, with the lines that did not decode."""

    lines: list[str]
    bad_lines: set[int]  # 0-based
    encoding: str


def physical_lines(raw: bytes) -> list[bytes]:
    """``raw`` split at line feeds only (a line feed at the end ends the last line)."""
    return raw.removesuffix(b"\n").split(b"\n") if raw else []


def _decode_lines(raw: bytes, encoding: str) -> tuple[list[str], set[int]]:
    lines, bad = [], set()
    for index, line in enumerate(physical_lines(raw)):
        try:
            lines.append(line.decode(encoding))
        except UnicodeDecodeError:
            # Decoded anyway, so that quotes and separators keep the row's shape.
            lines.append(line.decode(encoding, errors="replace"))
            bad.add(index)
    return lines, bad


def decode(raw: bytes, encoding: str | None = None) -> Text:
    """The lines of ``raw``: in ``encoding`` if given, else UTF-8 (with or without a
    byte-order mark), UTF-16 with one, or Windows-1252 when no line reads as UTF-8 text
    with accents and more than one line does not read as UTF-8 at all."""
    for bom, name in _BOMS:
        if raw.startswith(bom) and encoding is None:
            encoding = name
            break
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise RequestError(
                [("--encoding", f"'{encoding[:40]}' is not a known encoding")]
            ) from None
        if codecs.lookup(encoding).name.startswith("utf-16"):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                raise RequestError([("file", f"is not valid {encoding} text")]) from None
            text = text.removeprefix("\ufeff").removesuffix("\n")
            return Text(text.split("\n"), set(), encoding)
        lines, bad = _decode_lines(raw.removeprefix(codecs.BOM_UTF8), encoding)
        return Text(lines, bad, encoding)
    lines, bad = _decode_lines(raw, "utf-8")
    accented_utf8 = any(not line.isascii() for index, line in enumerate(lines) if index not in bad)
    if len(bad) > 1 and not accented_utf8:
        lines, bad = _decode_lines(raw, "cp1252")
        return Text(lines, bad, "cp1252")
    return Text(lines, bad, "utf-8")


def _choose_separator(header_line: str, known: Callable[[str], bool]) -> str:
    """The separator under which the header names the most known columns."""
    best, best_score = ",", (-1, -1)
    for separator in SEPARATORS:
        try:
            cells = next(csv.reader([header_line], delimiter=separator), [])
        except csv.Error:
            continue
        score = (sum(known(cell) for cell in cells), len(cells))
        if score > best_score:
            best, best_score = separator, score
    return best


class _Lines:
    """Feeds lines to csv.reader from any index and says which lines a record took."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.position = 0  # the next line to feed

    def feed(self, start: int) -> Iterator[str]:
        self.position = start
        while self.position < len(self.lines):
            line = self.lines[self.position]
            self.position += 1
            yield line if self.position == len(self.lines) else line + "\n"


def read_csv(
    raw: bytes,
    known: Callable[[str], bool],
    encoding: str | None = None,
    separator: str | None = None,
) -> Sheet:
    """The header and rows of a CSV file. ``known(header_cell)`` says whether a header
    names a column dn-docs reads; it picks the separator when none is given."""
    text = decode(raw, encoding)
    lines = text.lines
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    first = 0
    # Excel's "sep=;" line chooses the separator; Excel hides it, so it has no row number.
    if lines and (match := _SEP_LINE.fullmatch(lines[0].strip("\r"))):
        separator = separator or match.group(1)
        first = 1
    while first < len(lines) and not lines[first].strip(" \t\r,;|"):
        first += 1
    if first == len(lines):
        raise RequestError([("file", "has no header row")])
    separator = separator or _choose_separator(lines[first].rstrip("\r"), known)
    if len(separator) != 1:
        raise RequestError([("--delimiter", "must be one character, such as , or ;")])
    return Sheet(*_records(lines, text.bad_lines, text.encoding, separator, start=first))


def _records(
    lines: list[str], bad_lines: set[int], encoding: str, separator: str, start: int
) -> tuple[list[str], Iterator[RowError | Note | tuple[int, list[Any]]]]:
    feeder = _Lines(lines)
    skipped_sep_line = 1 if start and _SEP_LINE.fullmatch(lines[0].strip("\r")) else 0
    reader = csv.reader(feeder.feed(start), delimiter=separator)
    try:
        header = [cell.strip() for cell in next(reader)]
    except csv.Error:
        raise RequestError([("header", "is not a row of CSV text")]) from None
    header_width = width(header)
    # Rows are numbered as a spreadsheet shows them: the header's row, then one a record.
    header_row = start + 1 - skipped_sep_line

    def rows() -> Iterator[RowError | Note | tuple[int, list[Any]]]:
        nonlocal reader
        number = header_row
        first_line = feeder.position
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                cells = None
            number += 1
            taken = range(first_line, feeder.position)
            if cells is None or (len(taken) > 1 and _swallowed(cells, header_width, separator)):
                # A quote that is never closed takes in the rows after it: refuse this
                # line alone and read on from the next one.
                reason = "has a quote that is not closed" if cells else "is not a row of CSV text"
                yield RowError(number, "row", reason)
                reader = csv.reader(feeder.feed(first_line + 1), delimiter=separator)
                first_line = feeder.position
                continue
            first_line = feeder.position
            if any(index in bad_lines for index in taken):
                yield RowError(
                    number,
                    "row",
                    f"is not valid {_ENCODING_NAMES.get(encoding, encoding)} text"
                    + (
                        " (if the file is in another encoding, give --encoding, e.g. cp1252)"
                        if encoding == "utf-8"
                        else ""
                    ),
                )
                continue
            if is_blank(cells):
                yield Note(number, blank=True)
                continue
            if width(cells) > header_width:
                yield RowError(
                    number,
                    "row",
                    f"has {width(cells)} cells and the header {header_width}: a cell holds "
                    f"the separator ({separator!r}) without quotes, or a column has no header",
                )
                continue
            yield classify(number, cells)

    return header, rows()


def _swallowed(cells: list[str], header_width: int, separator: str) -> bool:
    """True if a record read over several lines looks like an unclosed quote's work: too
    many cells, or too few with a cell that spans lines and holds separators."""
    if width(cells) > header_width:
        return True
    return width(cells) < header_width and any("\n" in c and separator in c for c in cells)
