"""Reading level of the English source text (Flesch–Kincaid grade, via textstat).

Patient materials should read at grade 8 or below (NIH), ideally 6 or below (AMA).
Each catalog category is a section; the template's own sentences are one more.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import textstat

from .catalog import ITEMS

SECTION_LIMIT = 8.0
OVERALL_LIMIT = 7.0


@dataclass(frozen=True)
class SectionScore:
    section: str
    grade: float
    sentences: int


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "?", "!", ":")) else text + "."


def grade(text: str) -> float:
    return float(textstat.flesch_kincaid_grade(text))


def section_texts(form_sentences: list[str] | None = None) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = defaultdict(list)
    for item in ITEMS:
        sections[item.category.value].append(_sentence(item.text))
    if form_sentences:
        sections["form text"] = [_sentence(s) for s in form_sentences]
    return dict(sections)


def scores(form_sentences: list[str] | None = None) -> tuple[list[SectionScore], float]:
    """Grade per section and overall."""
    sections = section_texts(form_sentences)
    per_section = [
        SectionScore(name, grade(" ".join(texts)), len(texts)) for name, texts in sections.items()
    ]
    overall = grade(" ".join(t for texts in sections.values() for t in texts))
    return per_section, overall
