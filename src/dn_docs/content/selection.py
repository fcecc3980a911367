"""Content selection: the rules that turn one request into the items its document prints."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConsentRefusedError
from ..request import DocumentRequest
from .catalog import ITEMS, TORSO_AREAS
from .guardians import guardian_age
from .model import Category, ContentItem


@dataclass(frozen=True)
class Answer:
    """One health question of a consent: the item it asks about and whether it applies to
    the patient (None while the form is unanswered, for the patient to fill in)."""

    item: ContentItem
    applies: bool | None


@dataclass(frozen=True)
class Selection:
    """The catalog items that apply to one request, and the facts that shape its layout."""

    items: tuple[ContentItem, ...]
    #: The consent's health questions, numbered in this order (empty for an aftercare).
    questions: tuple[Answer, ...]
    collapsed_lung_prominent: bool
    guardian_age: int
    guardian_required: bool
    interpreter_required: bool

    def of(self, category: Category) -> tuple[ContentItem, ...]:
        return tuple(item for item in self.items if item.category is category)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    @property
    def answered(self) -> bool:
        return any(answer.applies is not None for answer in self.questions)

    @property
    def precautions_discussed(self) -> tuple[ContentItem, ...]:
        """The relative contraindications the patient answered yes to."""
        return tuple(
            answer.item
            for answer in self.questions
            if answer.applies and answer.item.category is Category.CONTRAINDICATION_RELATIVE
        )


def questions(request: DocumentRequest) -> tuple[Answer, ...]:
    """The health questions a consent asks, with the request's answers to them."""
    if request.kind != "consent":
        return ()
    return tuple(
        Answer(item, item.question.answer(request)) for item in ITEMS if item.question is not None
    )


def select(request: DocumentRequest) -> Selection:
    """Pick the items for ``request``; a consent with an absolute contraindication is refused."""
    asked = questions(request)
    if blocking := [
        answer.item
        for answer in asked
        if answer.applies and answer.item.category is Category.CONTRAINDICATION_ABSOLUTE
    ]:
        raise ConsentRefusedError([item.id.split(".", 1)[1].replace("_", " ") for item in blocking])
    age = guardian_age(request.clinic.country, request.clinic.guardian_age)
    return Selection(
        items=tuple(item for item in ITEMS if item.for_request(request)),
        questions=asked,
        collapsed_lung_prominent=not TORSO_AREAS.isdisjoint(request.session.areas),
        guardian_age=age,
        guardian_required=request.kind == "consent" and request.patient_age < age,
        interpreter_required=request.locale != request.clinic.language,
    )
