"""The practitioner's form as a request, and a request's field errors back on the form.

The form's field names are the request's own paths (``patient.name``,
``session.areas``, ``screening.pregnant``), so the library's field reasons land beside
the field they are about, with the same rules as the API.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from ..batch.cells import DateFormat
from ..content import ITEMS
from ..content.model import Category
from ..request import Area, Condition, Screening

KINDS = {"consent": ["consent"], "aftercare": ["aftercare"], "both": ["consent", "aftercare"]}
SCREENING_FIELDS = tuple(Screening.model_fields)
OPTIONS = ("large_print", "bilingual", "language_assistance")
#: The body diagram: each area on the front view, the back view or both.
FRONT = (
    Area.HEAD_JAW,
    Area.NECK,
    Area.SHOULDER,
    Area.CHEST,
    Area.ARM,
    Area.FOREARM_WRIST,
    Area.HAND,
    Area.HIP,
    Area.THIGH,
    Area.KNEE,
    Area.FOOT,
)
BACK = (Area.UPPER_BACK, Area.LOWER_BACK, Area.GLUTEAL, Area.CALF)
_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Question:
    """A screening question as the consent prints it: "yes" on the form means the
    statement applies to the patient (for ``able_to_consent`` that is a False answer).
    ``absolute``: a "yes" stops the consent."""

    field: str
    text: str
    absolute: bool
    applies_when: bool


def questions() -> list[Question]:
    """The nine questions, in the consent's order, from the clinical catalog."""
    return [
        Question(
            item.question.field,
            item.text,
            item.category == Category.CONTRAINDICATION_ABSOLUTE,
            item.question.applies_when,
        )
        for item in ITEMS
        if item.question is not None
    ]


def local_date_format(country: str) -> DateFormat:
    """How the clinic writes a date by hand: month first in the US, day first elsewhere."""
    return DateFormat.parse("MM/DD/YYYY" if country.upper() in ("US", "PH") else "DD/MM/YYYY")


def _date(text: str, country: str) -> str:
    """ISO as it is (what a date picker sends); the clinic's own format read into ISO;
    anything else passed on for the request's validator to name."""
    text = text.strip()
    try:
        read = local_date_format(country).read(text)
    except ValueError:
        return text
    return read.isoformat() if read is not None else text


@dataclass
class Submission:
    """What a practitioner's form asks for: a body per kind, or problems by field."""

    kinds: list[str]
    body: dict[str, Any]
    problems: list[tuple[str, str]] = field(default_factory=list)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def submission(form: FormData, practitioners: list[dict[str, Any]], country: str) -> Submission:
    problems: list[tuple[str, str]] = []
    kinds = KINDS.get(_text(form, "kind"), [])
    if not kinds:
        problems.append(("kind", "choose consent, aftercare or both"))
    patient: dict[str, Any] = {
        "name": _text(form, "patient.name"),
        "date_of_birth": _date(_text(form, "patient.date_of_birth"), country),
    }
    if patient_id := _text(form, "patient.id"):
        patient["id"] = patient_id
    session: dict[str, Any] = {
        "date": _date(_text(form, "session.date") or dt.date.today().isoformat(), country),
        "areas": [v for v in form.getlist("session.areas") if isinstance(v, str)],
        "electrical_stimulation": form.get("session.electrical_stimulation") == "yes",
    }
    if condition := _text(form, "session.condition"):
        session["condition"] = condition
    if following := _text(form, "session.next_appointment"):
        session["next_appointment"] = _date(following, country)
    body: dict[str, Any] = {
        "patient": patient,
        "session": session,
        "options": {name: form.get(f"options.{name}") == "yes" for name in OPTIONS},
    }
    if locale := _text(form, "locale"):
        body["locale"] = locale
    choice = _text(form, "practitioner")
    if practitioners:
        number = int(choice) if choice.isdigit() else 0
        if number >= len(practitioners):
            problems.append(("practitioner", "choose one of the clinic's practitioners"))
        else:
            body["practitioner"] = dict(practitioners[number])
    answers = {name: _text(form, f"screening.{name}") for name in SCREENING_FIELDS}
    if "consent" in kinds and any(answers.values()):
        for name, answer in answers.items():
            if answer not in ("yes", "no"):
                problems.append(
                    (
                        f"screening.{name}",
                        "answer yes or no (or leave every question blank to print them empty)",
                    )
                )
        applies_when = {q.field: q.applies_when for q in questions()}
        body["screening"] = {
            name: (answer == "yes") == applies_when.get(name, True)
            for name, answer in answers.items()
        }
    return Submission(kinds, body, problems)


def by_field(problems: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Field reasons keyed by the form's field names (``session.areas[1]`` → ``session.areas``)."""
    found: dict[str, list[str]] = {}
    for name, reason in problems:
        key = _INDEX.sub("", name)
        if reason not in found.setdefault(key, []):
            found[key].append(reason)
    return found


#: Field names the form shows beside a field; any other problem goes in the summary.
FORM_FIELDS = frozenset(
    {
        "kind",
        "locale",
        "practitioner",
        "patient.name",
        "patient.date_of_birth",
        "patient.id",
        "session.date",
        "session.areas",
        "session.condition",
        "session.next_appointment",
        "screening",
        *(f"screening.{name}" for name in SCREENING_FIELDS),
    }
)
AREAS = tuple(Area)
CONDITIONS = tuple(Condition)
