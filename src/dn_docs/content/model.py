"""What a content item is: one clinical statement, where it comes from and when it applies."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from ..request import Area, Condition, DocumentRequest


class Category(StrEnum):
    ABOUT = "about"
    BENEFIT = "benefit"
    EVIDENCE = "evidence"
    ELECTRICAL_STIMULATION = "electrical_stimulation"
    TRAINING = "training"
    CONTRAINDICATION_ABSOLUTE = "contraindication_absolute"
    CONTRAINDICATION_RELATIVE = "contraindication_relative"
    SIDE_EFFECT = "side_effect"
    RISK = "risk"
    AREA_CAUTION = "area_caution"
    PATIENT_ROLE = "patient_role"
    REPORT_DURING = "report_during"
    REPORT_AFTER = "report_after"
    REPORT_URGENT = "report_urgent"
    NERVE_INJURY_STEP = "nerve_injury_step"
    RECOVERY = "recovery"
    AFTERCARE = "aftercare"


class Source(StrEnum):
    """The two seed articles, by file name, plus the one permitted addition."""

    NERVE_PAIN = "000_5d37ab3e201131a8.txt"
    NERVE_DAMAGE = "001_2769527b85fd9077.txt"
    SAFETY_GUIDANCE = "standard safety guidance"


SOURCE_TITLES = {
    Source.NERVE_PAIN: "Does Dry Needling Help Nerve Pain?",
    Source.NERVE_DAMAGE: "Can Dry Needling Cause Nerve Damage?",
    Source.SAFETY_GUIDANCE: "Standard safety guidance (not from the seed articles)",
}


@dataclass(frozen=True)
class Citation:
    source: Source
    heading: str

    def __str__(self) -> str:
        return f"{self.source.value} § {self.heading}"


@dataclass(frozen=True)
class Applies:
    """When an item applies. Every condition that is set must hold; an empty rule always holds."""

    areas: frozenset[Area] = frozenset()
    conditions: frozenset[Condition] = frozenset()
    screening: str | None = None
    electrical_stimulation: bool = False

    def holds(self, request: DocumentRequest) -> bool:
        if self.areas and self.areas.isdisjoint(request.session.areas):
            return False
        if self.conditions and request.session.condition not in self.conditions:
            return False
        if self.electrical_stimulation and not request.session.electrical_stimulation:
            return False
        if self.screening is not None:
            return request.screening is not None and bool(
                getattr(request.screening, self.screening)
            )
        return True

    def describe(self) -> str:
        parts = []
        if self.areas:
            parts.append("areas: " + ", ".join(sorted(self.areas)))
        if self.conditions:
            parts.append("condition: " + ", ".join(sorted(self.conditions)))
        if self.screening:
            parts.append(f"screening: {self.screening}")
        if self.electrical_stimulation:
            parts.append("electrical stimulation")
        return "; ".join(parts) or "always"


def when(
    *,
    areas: Iterable[Area] = (),
    conditions: Iterable[Condition] = (),
    screening: str | None = None,
    electrical_stimulation: bool = False,
) -> Applies:
    return Applies(frozenset(areas), frozenset(conditions), screening, electrical_stimulation)


ALWAYS = Applies()


@dataclass(frozen=True)
class ContentItem:
    """One statement for patients. ``text`` is English source text, translated via gettext."""

    id: str
    category: Category
    text: str
    cite: tuple[Citation, ...]
    frequency: str | None = None
    applies: Applies = ALWAYS
    kinds: frozenset[str] = field(default=frozenset({"consent", "aftercare"}))

    def for_request(self, request: DocumentRequest) -> bool:
        return request.kind in self.kinds and self.applies.holds(request)
