"""The PDF's list of page references, made once for each number of pages.

pydyf's ``PDF.page_references`` builds a new tuple of every page's reference each time
it is read. WeasyPrint reads it for each tagged box when it builds the structure tree,
some thousand times for a three-page consent: about 1% of a warm render. Inside the
warm renderer's write pass the tuple is kept until a page is added.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pydyf

from .patching import swapped

_original: property = pydyf.PDF.page_references
_KEPT = "_dn_docs_page_references"


def _page_references(pdf: pydyf.PDF) -> tuple[bytes, ...]:
    # pydyf lists three items for each page: its number, 0 and R.
    count = len(pdf.pages["Kids"])
    kept: tuple[int, tuple[bytes, ...]] | None = vars(pdf).get(_KEPT)
    if kept is None or kept[0] != count:
        kept = (count, _original.__get__(pdf))
        setattr(pdf, _KEPT, kept)
    return kept[1]


@contextmanager
def page_references_kept() -> Iterator[None]:
    """Keep each PDF's page references inside this block (one write; not thread-safe)."""
    with swapped(pydyf.PDF, "page_references", property(_page_references)):
        yield
