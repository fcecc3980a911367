"""Dates and times in a request: ISO text, never a number.

Pydantic reads a number where a date belongs as seconds since 1970, so ``0`` would be
a birth date of 1 January 1970 and ``19840502`` a refusal about a time of day. A
request's dates are ``YYYY-MM-DD`` text (or date objects), its times ``HH:MM``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_TIME = re.compile(r"\d{2}:\d{2}(:\d{2})?")


def iso_date(value: Any) -> Any:
    """A pydantic before-validator: passes ISO date text and dates on, refuses the rest."""
    if isinstance(value, dt.datetime):
        raise ValueError("must be a date without a time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        return value.strip()
    if isinstance(value, bool | int | float):
        raise ValueError("must be a date in YYYY-MM-DD form, not a number")
    raise ValueError("must be a date in YYYY-MM-DD form")


def iso_time(value: Any) -> Any:
    """A pydantic before-validator: ``HH:MM`` or ``HH:MM:SS`` text, or a time."""
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str) and _ISO_TIME.fullmatch(value.strip()):
        return value.strip()
    if isinstance(value, bool | int | float):
        raise ValueError("must be a time in HH:MM form, not a number")
    raise ValueError("must be a time in HH:MM form (24-hour clock)")
