"""Which request field a spreadsheet column fills, and what kind of value it holds.

The fields and their kinds come from the request model itself, so a field added to a
request can be filled from a column named by its dotted path (``patient.name``) with
no change here. Headers are matched without regard to case, spaces, dots,
underscores or hyphens, and readable labels ("Patient name", "Date of birth",
"Pregnant?") name the common fields.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from ..request import DocumentRequest


class Kind(enum.Enum):
    TEXT = "text"
    YES_NO = "yes/no"
    DATE = "date"
    TIME = "time"
    CHOICE = "choice"
    CHOICES = "list"
    KINDS = "kinds"


@dataclass(frozen=True)
class Column:
    field: str  # dotted request path
    kind: Kind
    choices: tuple[str, ...] = ()


#: Readable labels of the common fields, besides their dotted paths.
LABELS: dict[str, tuple[str, ...]] = {
    "kind": ("document", "documents", "form", "forms", "kind of document"),
    "locale": ("language", "patient language", "lang"),
    "patient.name": ("patient name", "name", "patient", "full name"),
    "patient.date_of_birth": ("date of birth", "dob", "birth date", "birthdate", "born"),
    "patient.id": ("patient id", "patient number", "mrn", "id"),
    "session.date": ("session date", "appointment date", "date", "visit date"),
    "session.time": ("appointment time", "time", "session time", "appointment"),
    "session.areas": ("areas", "treatment areas", "area", "areas to treat"),
    "session.condition": ("condition", "diagnosis"),
    "session.electrical_stimulation": ("electrical stimulation", "e stim", "estim"),
    "session.next_appointment": ("next appointment", "next visit"),
}


#: The groups whose fields a column may name without the group's name.
SHORT_NAMED = ("screening.", "options.")


def header_key(text: str) -> str:
    """A header as it is compared: case, punctuation and spacing do not count."""
    return " ".join(re.sub(r"[\s._\-/?:*()]+", " ", text.casefold()).split())


def _unwrap(annotation: Any) -> Any:
    """``X`` for ``X | None``, ``Annotated[X, ...]`` and ``Literal`` stays as it is."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _column(field: str, annotation: Any) -> Column:
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if field == "kind":
        return Column(field, Kind.KINDS, ("consent", "aftercare"))
    if annotation is bool:
        return Column(field, Kind.YES_NO)
    if annotation is dt.date:
        return Column(field, Kind.DATE)
    if annotation is dt.time:
        return Column(field, Kind.TIME)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return Column(field, Kind.CHOICE, tuple(str(m.value) for m in annotation))
    if origin is typing.Literal:
        return Column(field, Kind.CHOICE, tuple(str(a) for a in typing.get_args(annotation)))
    if origin is list:
        item = _unwrap(typing.get_args(annotation)[0])
        if isinstance(item, type) and issubclass(item, enum.Enum):
            return Column(field, Kind.CHOICES, tuple(str(m.value) for m in item))
        return Column(field, Kind.CHOICES)
    return Column(field, Kind.TEXT)


def _walk(model: type[BaseModel], prefix: str = "") -> dict[str, Column]:
    found: dict[str, Column] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        inner = _unwrap(info.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            found.update(_walk(inner, path + "."))
        else:
            found[path] = _column(path, info.annotation)
    return found


@cache
def fields() -> dict[str, Column]:
    """Every request field a column can fill, by dotted path."""
    return _walk(DocumentRequest)


@cache
def vocabulary() -> dict[str, str]:
    """Header key → dotted field: the dotted paths, their labels, and a screening answer's
    or an option's own name ("pregnant", "large print"). Other fields' last parts are not
    enough: a scheduling system's "Phone" column is the patient's, not the clinic's."""
    names: dict[str, str] = {}
    leaves: dict[str, list[str]] = {}
    for path in fields():
        if path.startswith(SHORT_NAMED):
            leaves.setdefault(header_key(path.rsplit(".", 1)[-1]), []).append(path)
    for leaf, paths in leaves.items():
        if len(paths) == 1:
            names[leaf] = paths[0]
    for path, labels in LABELS.items():
        for label in labels:
            names[header_key(label)] = path
    for path in fields():
        names[header_key(path)] = path
    return names


def field_for(header: str) -> str | None:
    """The dotted field a header names, or None."""
    return vocabulary().get(header_key(header)) if header.strip() else None
