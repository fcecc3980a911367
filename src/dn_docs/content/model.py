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
    SCREENING = "screening"
    CONTRAINDICATION_ABSOLUTE = "contraindication_absolute"
    CONTRAINDICATION_RELATIVE = "contraindication_relative"
    SIDE_EFFECT = "side_effect"
    RISK = "risk"
    RISK_FACTOR = "risk_factor"
    AREA_CAUTION = "area_caution"
    ALTERNATIVE = "alternative"
    PATIENT_ROLE = "patient_role"
    REPORT_DURING = "report_during"
    REPORT_AFTER = "report_after"
    REPORT_URGENT = "report_urgent"
    NERVE_INJURY_STEP = "nerve_injury_step"
    RECOVERY = "recovery"
    AFTERCARE = "aftercare"


class Source(StrEnum):
    """The two seed articles, by file name, plus the two additions that are not from them."""

    NERVE_PAIN = "000_5d37ab3e201131a8.txt"
    NERVE_DAMAGE = "001_2769527b85fd9077.txt"
    SAFETY_GUIDANCE = "standard safety guidance"
    CONSENT_PRACTICE = "informed-consent practice"


SOURCE_TITLES = {
    Source.NERVE_PAIN: "Does Dry Needling Help Nerve Pain?",
    Source.NERVE_DAMAGE: "Can Dry Needling Cause Nerve Damage?",
    Source.SAFETY_GUIDANCE: "Standard safety guidance (not from the seed articles)",
    Source.CONSENT_PRACTICE: "Informed-consent practice (not from the seed articles)",
}

#: The sources that are not seed articles: each item citing one is a marked addition.
ADDITIONS = frozenset({Source.SAFETY_GUIDANCE, Source.CONSENT_PRACTICE})


@dataclass(frozen=True)
class Citation:
    source: Source
    heading: str

    def __str__(self) -> str:
        return f"{self.source.value} § {self.heading}"


@dataclass(frozen=True)
class Question:
    """The screening question an item is asked as: the request's ``screening`` field, and
    the answer to it that means the item applies to the patient."""

    field: str
    applies_when: bool = True

    def answer(self, request: DocumentRequest) -> bool | None:
        """Whether the item applies to the patient; None while the form is unanswered."""
        if request.screening is None:
            return None
        return bool(getattr(request.screening, self.field)) is self.applies_when


@dataclass(frozen=True)
class Applies:
    """When an item applies. Every condition that is set must hold; an empty rule always holds.

    ``screening``: the screening field whose "yes" the item needs. ``always_in``: kinds of
    document that print the item whatever the rest of the rule says.
    """

    areas: frozenset[Area] = frozenset()
    conditions: frozenset[Condition] = frozenset()
    screening: str | None = None
    electrical_stimulation: bool = False
    always_in: frozenset[str] = frozenset()

    def holds(self, request: DocumentRequest) -> bool:
        if request.kind in self.always_in:
            return True
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
        rule = "; ".join(parts) or "always"
        if self.always_in and parts:
            rule = f"every {' and '.join(sorted(self.always_in))}; otherwise {rule}"
        return rule


def when(
    *,
    areas: Iterable[Area] = (),
    conditions: Iterable[Condition] = (),
    screening: str | None = None,
    electrical_stimulation: bool = False,
    always_in: Iterable[str] = (),
) -> Applies:
    return Applies(
        frozenset(areas),
        frozenset(conditions),
        screening,
        electrical_stimulation,
        frozenset(always_in),
    )


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
    #: Set on the nine items the consent's health questions ask about.
    question: Question | None = None

    def for_request(self, request: DocumentRequest) -> bool:
        return request.kind in self.kinds and self.applies.holds(request)
