"""Dates and times in a request: ISO text, never a number.

Pydantic reads a number where a date belongs as seconds since 1970, so ``0`` would be
a birth date of 1 January 1970 and ``19840502`` a refusal about a time of day. A
request's dates are ``YYYY-MM-DD`` text (or date objects), its times ``HH:MM``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any


def _iso(kind: type, pattern: str, form: str, what: str) -> Callable[[Any], Any]:
    """A pydantic before-validator that passes ``kind`` objects and ``pattern`` text on."""
    text = re.compile(pattern)

    def check(value: Any) -> Any:
        if isinstance(value, dt.datetime) and kind is dt.date:
            raise ValueError("must be a date without a time")
        if isinstance(value, kind):
            return value
        if isinstance(value, str) and text.fullmatch(value.strip()):
            return value.strip()
        number = ", not a number" if isinstance(value, bool | int | float) else ""
        raise ValueError(f"must be a {what} in {form} form{number}")

    return check


iso_date = _iso(dt.date, r"\d{4}-\d{2}-\d{2}", "YYYY-MM-DD", "date")
iso_time = _iso(dt.time, r"\d{2}:\d{2}(:\d{2})?", "HH:MM", "time")
