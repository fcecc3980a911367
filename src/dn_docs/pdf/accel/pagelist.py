"""The PDF's list of page references, made once for each number of pages.

pydyf's ``PDF.page_references`` builds a new tuple of every page's reference each time
it is read. WeasyPrint reads it for each tagged box when it builds the structure tree,
some thousand times for a three-page consent: about 1% of a warm render. Inside the
warm renderer's write pass the tuple is kept until a page is added.
"""

from __future__ import annotations

import pydyf

from .adapter import Replacement, Target

TARGET = Target(pydyf.PDF, "page_references", "pydyf.PDF.page_references", "(self)")
_KEPT = "_dn_docs_page_references"


def _page_references(pdf: pydyf.PDF) -> tuple[bytes, ...]:
    # pydyf lists three items for each page: its number, 0 and R.
    count = len(pdf.pages["Kids"])
    kept: tuple[int, tuple[bytes, ...]] | None = vars(pdf).get(_KEPT)
    if kept is None or kept[0] != count:
        kept = (count, TARGET.original.__get__(pdf))
        setattr(pdf, _KEPT, kept)
    return kept[1]


#: Stateless: the same for every renderer.
REPLACEMENTS = (Replacement(TARGET, property(_page_references)),)
