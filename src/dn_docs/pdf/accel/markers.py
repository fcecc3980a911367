"""List markers laid out once per process.

Every list item of a document has an outside marker (the bullet), which WeasyPrint
positions absolutely once the page's flow is laid out: it works out the marker's
shrink-to-fit width and lays out its line, for every item of every document. A
marker's layout depends only on its text, its style and the size of the page area;
its place is the item's. The warm renderer keeps each distinct marker's layout and
gives a later one a copy moved to its own item, when it also fits above the bottom
of the page as the kept one did.

Styles are shared between documents (see :mod:`.styles`), so the same style object
stands for the same computed style here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from weasyprint.formatting_structure import boxes
from weasyprint.layout import absolute

from .adapter import Replacement, Target
from .generations import Generations, Reuse
from .sections import copy_layout

#: Markers are kept in two generations of at most this many: a few per language.
GENERATION_MARKERS = 500

TARGET = Target(
    absolute,
    "absolute_box_layout",
    "weasyprint.layout.absolute.absolute_box_layout",
    "(context, box, containing_block, fixed_boxes, bottom_space, skip_stack)",
)
_original: Callable[..., tuple[Any, Any]] = TARGET.original


@dataclass(frozen=True)
class _KeptMarker:
    box: Any  # never handed out itself
    position_x: float
    position_y: float
    style: Any  # keeps the style whose id is in the key


def _content(box: Any) -> Hashable | None:
    """The marker's boxes and text, or None when one of them is not the item's own.

    A copy is moved to the new item's element, so every box must be the item's.
    """
    parts: list[Hashable] = []
    for descendant in box.descendants():
        if descendant.element is not box.element:
            return None
        parts.append((type(descendant), getattr(descendant, "text", None)))
    return tuple(parts)


class SharedMarkers:
    """List marker layouts kept between documents."""

    def __init__(self) -> None:
        self.reuse = Reuse()
        self.kept: Generations[_KeptMarker] = Generations(GENERATION_MARKERS)
        self.replacements = (Replacement(TARGET, self.absolute_box_layout),)

    def absolute_box_layout(
        self,
        context: Any,
        box: Any,
        containing_block: Any,
        fixed_boxes: list[Any],
        bottom_space: float,
        skip_stack: Any,
    ) -> tuple[Any, Any]:
        arguments = (context, box, containing_block, fixed_boxes, bottom_space, skip_stack)
        if (
            not box.is_outside_marker
            or skip_stack is not None
            or not isinstance(box, boxes.BlockBox)
        ):
            return _original(*arguments)
        content = _content(box)
        if content is None:
            return _original(*arguments)
        key = (
            id(box.style),
            content,
            type(containing_block),
            containing_block.width,
            containing_block.height,
            bottom_space,
        )
        marker = self.kept.get(key)
        room = context.page_bottom - bottom_space
        if marker is not None:
            dy = box.position_y - marker.position_y
            if marker.box.position_y + marker.box.margin_height() + dy <= room:
                self.reuse.hits += 1
                new_box = copy_layout(marker.box, {id(marker.box.element): box.element})
                new_box.translate(dx=box.position_x - marker.position_x, dy=dy)
                return new_box, None
        self.reuse.misses += 1
        position_x, position_y = box.position_x, box.position_y
        new_box, resume_at = _original(*arguments)
        if resume_at is None and new_box.position_y + new_box.margin_height() <= room:
            self.kept.put(
                key, _KeptMarker(copy_layout(new_box, {}), position_x, position_y, box.style)
            )
        return new_box, resume_at
