"""Clinical content: the cited catalog and the rules that pick items for one request."""

from .catalog import CATALOG_VERSION, ITEMS
from .guardians import guardian_age
from .model import Category, Citation, ContentItem, Question, Source
from .selection import Answer, Selection, select

__all__ = [
    "CATALOG_VERSION",
    "ITEMS",
    "Answer",
    "Category",
    "Citation",
    "ContentItem",
    "Question",
    "Selection",
    "Source",
    "guardian_age",
    "select",
]
