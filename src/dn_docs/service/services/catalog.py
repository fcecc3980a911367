"""What the service can print: the content catalog and the shipped languages."""

from __future__ import annotations

from dataclasses import dataclass

from ... import content, locales


@dataclass(frozen=True)
class ContentItem:
    id: str
    category: str
    frequency: str | None
    applies: str
    documents: list[str]
    text: str
    citations: list[str]


@dataclass(frozen=True)
class Language:
    locale: str
    direction: str
    translation_version: str


def content_items() -> tuple[str, list[ContentItem]]:
    """The catalog's version and its items, each with its citations."""
    return content.CATALOG_VERSION, [
        ContentItem(
            id=item.id,
            category=item.category.value,
            frequency=item.frequency,
            applies=item.applies.describe(),
            documents=sorted(item.kinds),
            text=item.text,
            citations=[str(c) for c in item.cite],
        )
        for item in content.ITEMS
    ]


def languages() -> list[Language]:
    return [
        Language(locale_id, direction, locales.catalog_version(locale_id))
        for locale_id, direction in sorted(locales.SUPPORTED.items())
    ]
