"""JSON Lines: one request object per line, numbered by line.

Lines are split at line feeds only: JSON allows a raw U+2028 inside a string, and a
name holding one is refused by validation, not split into two broken lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .csvtext import physical_lines
from .sheet import Note, RowError


def read_json_lines(raw: bytes) -> Iterator[RowError | Note | tuple[int, dict[str, Any]]]:
    for number, line in enumerate(physical_lines(raw), start=1):
        try:
            text = line.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            yield RowError(number, "row", "is not valid UTF-8 text")
            continue
        if not text.strip():
            yield Note(number, blank=True)
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield RowError(number, "row", f"is not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            yield RowError(number, "row", "is nested too deeply to be a request")
            continue
        except ValueError:
            # Python refuses to read integers of more than 4300 digits.
            yield RowError(number, "row", "has a number too long to read")
            continue
        if not isinstance(data, dict):
            yield RowError(number, "row", "must be a JSON object")
            continue
        yield number, data
