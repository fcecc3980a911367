"""Running headers and footers laid out once per document.

Every page of a dn-docs document carries the same running header (clinic, patient,
id) and the same footer stamp in its margin boxes; only the page number changes.
WeasyPrint lays out each margin box of each page afresh. The warm renderer keeps the
layout of a margin box for the rest of the document and gives a later page a copy
of it when that page's margin box has the same content, the same place and size and
the same ``@page`` declarations. The page number box has different text on every
page, so it is laid out every time.

Nothing is kept between documents: the header names the patient.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from weasyprint.layout import page as page_layout

from .adapter import Replacement, Target
from .generations import Reuse
from .sections import copy_layout
from .styles import declarations_key

TARGET = Target(
    page_layout,
    "margin_box_content_layout",
    "weasyprint.layout.page.margin_box_content_layout",
    "(context, page, box)",
)
_SIDES = ("top", "right", "bottom", "left")


def _content_key(box: Any) -> Hashable:
    # Within one document an element stands for its styles: equal content is the same
    # elements with the same text.
    return (
        type(box),
        id(box.element),
        box.element_tag,
        getattr(box, "text", None),
        tuple(_content_key(child) for child in getattr(box, "children", ())),
    )


class SharedMarginBoxes:
    """Margin boxes laid out once in a document (:meth:`forget` after each render)."""

    def __init__(self) -> None:
        self.reuse = Reuse()
        self._laid_out: dict[Hashable, Any] = {}
        self.replacements = (Replacement(TARGET, self.margin_box_content_layout),)

    def margin_box_content_layout(self, context: Any, page: Any, box: Any) -> Any:
        style = box.style
        key = (
            box.at_keyword,
            box.position_x,
            box.position_y,
            box.width,
            box.height,
            *(getattr(box, f"{part}_{side}") for part in ("margin", "padding") for side in _SIDES),
            *(getattr(box, f"border_{side}_width") for side in _SIDES),
            declarations_key(style.cascaded),
            declarations_key(style.parent_style.cascaded),
            _content_key(box),
        )
        laid_out = self._laid_out.get(key)
        if laid_out is not None:
            self.reuse.hits += 1
            return copy_layout(laid_out, {})
        self.reuse.misses += 1
        laid_out = TARGET.original(context, page, box)
        self._laid_out[key] = copy_layout(laid_out, {})
        return laid_out

    def forget(self) -> None:
        """Drop the margin boxes of the document that ended (they name its patient)."""
        self._laid_out.clear()
