"""Clinical content: the cited catalog and the rules that pick items for one request."""

from .catalog import CATALOG_VERSION, ITEMS
from .model import Category, Citation, ContentItem, Source
from .selection import Selection, select

__all__ = [
    "CATALOG_VERSION",
    "ITEMS",
    "Category",
    "Citation",
    "ContentItem",
    "Selection",
    "Source",
    "select",
]
