"""Spreadsheet cells as request values: dates in the clinic's format, yes/no in its
language, lists, choices and text.

A cell that cannot be read raises :class:`CellError` with a reason that says what
kind of value was there, never the value: it may be patient data.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import RequestError, UnsupportedLocaleError
from ..locales import negotiate
from .columns import Column, Kind


class CellError(ValueError):
    def __init__(self, reason: str, value: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = value


#: Yes and no as a front desk writes them, by language: English always, and the
#: clinic's own language (``clinic.language``). Excel writes TRUE/FALSE (WAHR/FALSCH).
YES_NO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (("yes", "y", "true", "1"), ("no", "n", "false", "0")),
    "de": (("ja", "j", "wahr"), ("nein", "n", "falsch")),
    "es": (("sí", "si", "s", "verdadero"), ("no", "n", "falso")),
    "fr": (("oui", "o", "vrai"), ("non", "n", "faux")),
    "pt_BR": (("sim", "s", "verdadeiro"), ("não", "nao", "n", "falso")),
    "pl": (("tak", "t", "prawda"), ("nie", "n", "fałsz")),
    "ru": (("да", "д"), ("нет", "н")),
    "vi": (("có", "co"), ("không", "khong")),
    "tl": (("oo", "opo"), ("hindi",)),
    "ht": (("wi",), ("non",)),
    "ko": (("예", "네"), ("아니요", "아니오")),
    "ja": (("はい",), ("いいえ",)),
    "zh_Hans": (("是",), ("否",)),
    "zh_Hant": (("是",), ("否",)),
    "ar": (("نعم",), ("لا",)),
    "fa": (("بله", "آری"), ("خیر", "نه")),
    "he": (("כן",), ("לא",)),
    "hi": (("हाँ", "हां"), ("नहीं",)),
}

_TOKENS = {"DD": "day", "D": "day", "MM": "month", "M": "month", "YYYY": "year"}
_STRFTIME = {"%d": "DD", "%m": "MM", "%Y": "YYYY", "%-d": "D", "%-m": "M"}
_NUMERIC_DATE = re.compile(r"(\d{1,4})([./\- ])(\d{1,2})\2(\d{1,4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TIME = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?(?::(\d{2}))?\s*([ap])?\.?\s*(?:m\.?)?", re.I)


@dataclass(frozen=True)
class DateFormat:
    """A numeric date format such as ``DD.MM.YYYY`` or ``MM/DD/YYYY`` (``%d.%m.%Y`` too)."""

    pattern: str
    order: tuple[str, ...]
    regex: re.Pattern[str] = field(compare=False)

    @classmethod
    def parse(cls, pattern: str, option: str = "--date-format") -> DateFormat:
        text = pattern.strip()
        for directive, token in _STRFTIME.items():
            text = text.replace(directive, token)
        parts = re.findall(r"YYYY|DD|MM|D|M|[./\- ]", text.upper())
        order = tuple(_TOKENS[p] for p in parts if p in _TOKENS)
        if "".join(parts) != text.upper() or sorted(order) != ["day", "month", "year"]:
            raise RequestError(
                [(option, "must be a date format such as DD.MM.YYYY, MM/DD/YYYY or YYYY-MM-DD")]
            )
        regex = "".join(
            r"(\d{4})" if p == "YYYY" else r"(\d{1,2})" if p in _TOKENS else re.escape(p)
            for p in parts
        )
        return cls(text.upper(), order, re.compile(regex))

    def read(self, text: str) -> dt.date | None:
        match = self.regex.fullmatch(text)
        if not match:
            return None
        values = dict(zip(self.order, (int(g) for g in match.groups()), strict=True))
        return _real_date(values["year"], values["month"], values["day"])


def _real_date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError("is not a real date (no such day)", "date") from None


@dataclass(frozen=True)
class Reading:
    """How one batch reads its cells: the date format and the clinic's language."""

    date_format: DateFormat | None = None
    language: str = "en"

    def yes_no(self) -> tuple[set[str], set[str]]:
        yes, no = set(YES_NO["en"][0]), set(YES_NO["en"][1])
        if self.language in YES_NO:
            yes |= set(YES_NO[self.language][0])
            no |= set(YES_NO[self.language][1])
        return yes, no


def clinic_language(value: Any) -> str:
    """The catalog id of a clinic's language, or English when it is not one."""
    try:
        return negotiate(str(value or "en"))
    except UnsupportedLocaleError:
        return "en"


def describe(value: Any) -> str:
    """What kind of value ``value`` is, for an error report (never the value)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "empty"
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dt.datetime | dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, list):
        return f"list of {len(value)}"
    if isinstance(value, dict):
        return "object"
    return f"text of {len(str(value))} characters"


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _identifier(text: str) -> str:
    """A choice as a person writes it ("Lower back") as its id (``lower_back``)."""
    return "_".join(re.sub(r"[\s\-]+", " ", text.strip().casefold()).split())


def _date(value: Any, reading: Reading) -> str:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise CellError("must be a date without a time", "date and time")
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | int | float):
        raise CellError("is a number, not a date (format the column as dates)", "number")
    text = str(value).strip()
    if match := _ISO_DATE.fullmatch(text):
        return _real_date(*(int(g) for g in match.groups())).isoformat()
    if reading.date_format is not None:
        read = reading.date_format.read(text)
        if read is None:
            raise CellError(f"is not a date in {reading.date_format.pattern} form", describe(text))
        return read.isoformat()
    match = _NUMERIC_DATE.fullmatch(text)
    if not match:
        raise CellError("is not a date (write YYYY-MM-DD, or give --date-format)", describe(text))
    first, _, second, year_text = match.groups()
    if len(year_text) != 4:
        raise CellError("has no four-digit year at its end; write the year in full", "date")
    a, b, year = int(first), int(second), int(year_text)
    if a > 12 >= b:
        return _real_date(year, b, a).isoformat()
    if b > 12 >= a or a == b:
        return _real_date(year, a, b).isoformat()
    raise CellError(
        "could be read day first or month first; give --date-format DD/MM/YYYY or "
        "MM/DD/YYYY (or date_format in clinic.json)",
        "date",
    )


def _time(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.time()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat(timespec="minutes")
    if isinstance(value, bool | int | float):
        raise CellError("is a number, not a time (format the column as times)", "number")
    match = _TIME.fullmatch(str(value).strip())
    if not match:
        raise CellError("is not a time (write 14:30 or 2:30 PM)", describe(value))
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    half = (match.group(4) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            raise CellError("is not a time on a 12-hour clock", "time")
        hour = hour % 12 + (12 if half == "p" else 0)
    if hour > 23 or minute > 59:
        raise CellError("is not a time of day", "time")
    return f"{hour:02d}:{minute:02d}"


def _yes_no(value: Any, reading: Reading) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    yes, no = reading.yes_no()
    word = _text(value).casefold()
    if word in yes:
        return True
    if word in no:
        return False
    own_yes, own_no = YES_NO.get(reading.language, YES_NO["en"])
    words = "yes/no" if reading.language == "en" else f"yes/no or {own_yes[0]}/{own_no[0]}"
    raise CellError(f"must be {words}", describe(value))


def convert(column: Column, value: Any, reading: Reading) -> Any:
    """The request value of a non-empty cell; CellError if it cannot be one."""
    if column.kind is Kind.YES_NO:
        return _yes_no(value, reading)
    if column.kind is Kind.DATE:
        return _date(value, reading)
    if column.kind is Kind.TIME:
        return _time(value)
    if column.kind is Kind.CHOICE:
        return _identifier(_text(value))
    if column.kind is Kind.CHOICES:
        return [_identifier(part) for part in re.split(r"[;,]", _text(value)) if part.strip()]
    if column.kind is Kind.KINDS:
        text = _text(value).casefold()
        if text in ("both", "all"):
            return list(column.choices)
        return [_identifier(p) for p in re.split(r"[;,+&/]|\band\b", text) if p.strip()]
    return _text(value)
