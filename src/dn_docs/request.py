"""The document request: what a clinic asks dn-docs to print, validated.

``DocumentRequest`` is the one input of the pipeline. It is JSON in and out
(``model_validate`` / ``model_dump(mode="json")``) so that it travels through a
task queue unchanged. :func:`parse_request` turns pydantic's errors into a
:class:`~dn_docs.errors.RequestError` whose messages name the field and the
reason and never repeat the submitted value (it may be patient data).
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from . import countries, dates, fieldtext, locales
from .errors import RequestError, UnsupportedLocaleError

MAX_NAME = 120
MAX_TEXT = 200
MAX_ID = 64
OLDEST_AGE = 130
#: The most sessions a course of treatment can name, and how far ahead its end can be.
MAX_COURSE_SESSIONS = 52
MAX_COURSE_YEARS = 2
#: The range a clinic can set for the age below which a parent or guardian signs.
GUARDIAN_AGES = (12, 21)


class Area(StrEnum):
    NECK = "neck"
    HEAD_JAW = "head_jaw"
    SHOULDER = "shoulder"
    UPPER_BACK = "upper_back"
    CHEST = "chest"
    ARM = "arm"
    FOREARM_WRIST = "forearm_wrist"
    HAND = "hand"
    LOWER_BACK = "lower_back"
    GLUTEAL = "gluteal"
    HIP = "hip"
    THIGH = "thigh"
    KNEE = "knee"
    CALF = "calf"
    FOOT = "foot"


class Condition(StrEnum):
    NECK_PAIN = "neck_pain"
    LOWER_BACK_PAIN = "lower_back_pain"
    SHOULDER_PAIN = "shoulder_pain"
    TENSION_HEADACHE = "tension_headache"
    PLANTAR_FASCIITIS = "plantar_fasciitis"
    MYOFASCIAL_PAIN = "myofascial_pain"
    SCIATICA = "sciatica"
    RADICULOPATHY = "radiculopathy"
    CARPAL_TUNNEL = "carpal_tunnel"
    PERIPHERAL_NEUROPATHY = "peripheral_neuropathy"
    OTHER = "other"


# Lengths are checked by fieldtext after normalisation, not on the raw value.
_STRIPPED = StringConstraints(strip_whitespace=True, min_length=1)
Name = Annotated[str, _STRIPPED, AfterValidator(fieldtext.limited(MAX_NAME))]
Text = Annotated[str, _STRIPPED, AfterValidator(fieldtext.limited(MAX_TEXT))]
Identifier = Annotated[str, _STRIPPED, AfterValidator(fieldtext.limited(MAX_ID))]
Day = Annotated[dt.date, BeforeValidator(dates.iso_date)]
TimeOfDay = Annotated[dt.time, BeforeValidator(dates.iso_time)]
Phone = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=32, pattern=r"^\+?[0-9 ().\-]+$"
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Patient(_Strict):
    name: Name
    date_of_birth: Day
    id: Identifier | None = None

    def age_on(self, day: dt.date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Practitioner(_Strict):
    name: Name
    credentials: Text
    license: Identifier | None = None
    #: Printed under "Who treats you": the practitioner's own dry-needling training.
    dry_needling_training: Text | None = None


class Clinic(_Strict):
    name: Text
    address: Text | None = None
    phone: Phone
    country: str = Field(min_length=2, max_length=2)
    language: str = Field(default=locales.SOURCE_LOCALE, max_length=20)
    #: A PNG, JPEG or SVG file name inside the assets folder (``DN_DOCS_ASSETS_DIR``).
    logo: str | None = Field(default=None, max_length=120)
    #: Below this age a parent or guardian signs; by default the country's statutory age
    #: of consent to treatment (``content.guardians``).
    guardian_age: int | None = Field(default=None, ge=GUARDIAN_AGES[0], le=GUARDIAN_AGES[1])

    @field_validator("logo")
    @classmethod
    def _logo_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*", value):
            raise ValueError("must be a file name inside the assets folder, such as logo.png")
        if ".." in value.split("/") or not value.lower().endswith(
            (".png", ".jpg", ".jpeg", ".svg")
        ):
            raise ValueError("must be a .png, .jpg or .svg file inside the assets folder")
        return value

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        return countries.country_code(value)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return _negotiated(value)


class Scope(_Strict):
    """A course of treatment the consent covers: up to a date, a number of sessions, or both."""

    until: dt.date | None = None
    sessions: int | None = Field(default=None, ge=1, le=MAX_COURSE_SESSIONS)

    @field_validator("sessions", mode="before")
    @classmethod
    def _not_a_yes_or_no(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a number of sessions")
        return value

    @model_validator(mode="after")
    def _bounded(self) -> Scope:
        if self.until is None and self.sessions is None:
            raise ValueError("a course needs until (its last date), sessions (how many) or both")
        return self


class Session(_Strict):
    date: Day
    #: The appointment's time of day (optional): batches print packets in this order.
    time: TimeOfDay | None = None
    areas: list[Area] = Field(min_length=1, max_length=len(Area))
    electrical_stimulation: bool = False
    condition: Condition | None = None
    next_appointment: Day | None = None
    #: What the consent covers: this session only (None) or a course of treatment.
    scope: Scope | None = None

    @field_validator("areas")
    @classmethod
    def _unique(cls, value: list[Area]) -> list[Area]:
        if len(set(value)) != len(value):
            raise ValueError("lists an area more than once")
        return value

    @field_validator("date")
    @classmethod
    def _plausible(cls, value: dt.date) -> dt.date:
        today = dt.date.today()
        if not dt.date(2000, 1, 1) <= value <= today.replace(year=today.year + 2):
            raise ValueError("session date must be within two years from today")
        return value

    @model_validator(mode="after")
    def _course_after_session(self) -> Session:
        until = self.scope.until if self.scope else None
        if until is not None and until < self.date:
            raise _FieldError("session.scope.until", "is before the session date")
        if until is not None and until > _years_after(self.date, MAX_COURSE_YEARS):
            raise _FieldError(
                "session.scope.until", f"is more than {MAX_COURSE_YEARS} years after the session"
            )
        return self


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class Screening(_Strict):
    """Answers to the pre-treatment screening questions (true means the answer is yes).

    Optional on a consent: without it the form prints the questions with empty boxes
    for the patient to fill in at the desk.
    """

    local_infection: bool
    needle_phobia: bool
    able_to_consent: bool
    pregnant: bool
    immunocompromised: bool
    lymphedema: bool
    pacemaker_or_implant: bool
    blood_thinners: bool
    bleeding_disorder: bool


class Options(_Strict):
    large_print: bool = False
    #: Print the clinic's language after each section, so staff can read what is signed.
    bilingual: bool = False
    #: Add a notice, in every shipped language, that free language help is available.
    language_assistance: bool = False
    #: Write PDF/A-3u with a tagged structure (archival); off gives a plain PDF.
    pdf_a: bool = True


class DocumentRequest(_Strict):
    kind: Literal["consent", "aftercare"]
    locale: str = Field(max_length=20)
    patient: Patient
    practitioner: Practitioner
    clinic: Clinic
    session: Session
    screening: Screening | None = None
    options: Options = Options()

    @field_validator("locale")
    @classmethod
    def _supported_locale(cls, value: str) -> str:
        return _negotiated(value)

    @model_validator(mode="after")
    def _consistent(self) -> DocumentRequest:
        born, session = self.patient.date_of_birth, self.session.date
        if born > dt.date.today():
            raise _FieldError("patient.date_of_birth", "date of birth is in the future")
        if born > session:
            raise _FieldError("patient.date_of_birth", "date of birth is after the session date")
        if self.patient.age_on(session) >= OLDEST_AGE:
            raise _FieldError("patient.date_of_birth", f"gives an age over {OLDEST_AGE} years")
        nxt = self.session.next_appointment
        if nxt is not None and nxt < session:
            raise _FieldError("session.next_appointment", "is before the session date")
        return self

    @property
    def patient_age(self) -> int:
        return self.patient.age_on(self.session.date)


class _FieldError(ValueError):
    """A cross-field error that already knows which field it is about."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def _negotiated(value: str) -> str:
    try:
        return locales.negotiate(value)
    except UnsupportedLocaleError as exc:
        raise ValueError(exc.errors[0][1]) from None


_REASONS = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "date_type": "must be a date in YYYY-MM-DD form",
    "date_parsing": "must be a date in YYYY-MM-DD form",
    "date_from_datetime_parsing": "must be a date in YYYY-MM-DD form",
    "date_from_datetime_inexact": "must be a date without a time",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "string_pattern_mismatch": "has characters that are not allowed",
}


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part.startswith(("function-", "list[", "nullable[", "union[")):
            out += f".{part}" if out else part
    return out


def _reason(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _REASONS:
        return _REASONS[kind]
    if kind == "string_too_long":
        return f"is too long (at most {ctx.get('max_length')} characters)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind in ("enum", "literal_error"):
        return f"must be one of: {ctx.get('expected', '')}".replace("'", "")
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"]).lower()


def parse_request(data: DocumentRequest | dict[str, Any]) -> DocumentRequest:
    """Validate ``data`` into a :class:`DocumentRequest` or raise :class:`RequestError`."""
    if isinstance(data, DocumentRequest):
        return data
    if not isinstance(data, dict):
        raise RequestError([("request", "must be a JSON object")])
    try:
        return DocumentRequest.model_validate(data)
    except ValidationError as exc:
        raise RequestError(field_problems(exc)) from None


def field_problems(exc: ValidationError, root: str = "") -> list[tuple[str, str]]:
    """One ``(field, reason)`` per error, fields under ``root``; never the submitted value."""
    problems: list[tuple[str, str]] = []
    for error in exc.errors(include_input=False, include_url=False):
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, _FieldError):
            problems.append((_joined(root, cause.field), cause.reason))
        else:
            problems.append((_joined(root, _location(error["loc"])), _reason(error)))
    return problems


def _joined(root: str, field: str) -> str:
    if not root or not field:
        return root or field or "request"
    return root + (field if field.startswith("[") else "." + field)
