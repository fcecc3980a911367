"""Content selection: the rules that turn one request into the items its document prints."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConsentRefusedError
from ..request import DocumentRequest
from .catalog import BY_ID, ITEMS, TORSO_AREAS
from .model import Category, ContentItem

ADULT_AGE = 18

# Screening answer that rules dry needling out → the catalog item that explains it.
# ``able_to_consent`` is the one question where "no" is the contraindication.
_ABSOLUTE = (
    ("local_infection", True, "contraindication.local_infection"),
    ("needle_phobia", True, "contraindication.needle_phobia"),
    ("able_to_consent", False, "contraindication.unable_to_consent"),
)


@dataclass(frozen=True)
class Selection:
    """The catalog items that apply to one request, and the facts that shape its layout."""

    items: tuple[ContentItem, ...]
    collapsed_lung_prominent: bool
    guardian_required: bool
    interpreter_required: bool

    def of(self, category: Category) -> tuple[ContentItem, ...]:
        return tuple(item for item in self.items if item.category is category)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)


def absolute_contraindications(request: DocumentRequest) -> list[ContentItem]:
    screening = request.screening
    if screening is None:
        return []
    return [BY_ID[item] for field, bad, item in _ABSOLUTE if getattr(screening, field) is bad]


def select(request: DocumentRequest) -> Selection:
    """Pick the items for ``request``; a consent with an absolute contraindication is refused."""
    if request.kind == "consent" and (blocking := absolute_contraindications(request)):
        raise ConsentRefusedError([item.id.split(".", 1)[1].replace("_", " ") for item in blocking])
    return Selection(
        items=tuple(item for item in ITEMS if item.for_request(request)),
        collapsed_lung_prominent=not TORSO_AREAS.isdisjoint(request.session.areas),
        guardian_required=request.kind == "consent" and request.patient_age < ADULT_AGE,
        interpreter_required=request.locale != request.clinic.language,
    )
