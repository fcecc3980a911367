"""Section layouts shared between documents.

A document is a run of ``<section>`` elements, and most of them are the same for
every patient with the same language and selected content: "What is dry needling?",
the risks, the signature blocks. WeasyPrint lays out each one afresh for every
document. The warm renderer keeps a section's layout the first time it fits whole on a
page, and places a copy of it wherever the same section starts again with at least as
much room left on the page: in the next patient's document, shifted up or down.
A section broken across pages is kept too, both parts: the part before the break is
placed again where the same section starts with exactly the same room left, and the
rest where the same rest starts a page with the same room. Documents whose content
above is as tall, which is most documents of the same language and selection, break
in the same places.

What makes two sections the same: their HTML, the root element's attributes (language,
direction, large print; the stylesheet's only selectors outside a section), the font
configuration, the horizontal position and width, and the state of the page where
they start (margins carried in, whether the page is empty, the space kept at the
bottom). A layout is kept only when nothing in it depends on the page beyond that:
no floats nearby, no fixed boxes, no other box broken to the next page. A section
that starts beside a float is laid out by WeasyPrint as usual.

Every use gets its own copy of the boxes: drawing and tagging write into them. The
copy's boxes point at the new document's elements, so nothing from the earlier
document is told apart from its own when bookmarks and tags are made.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from weasyprint.css import ComputedStyle
from weasyprint.formatting_structure import boxes
from weasyprint.layout import block
from weasyprint.layout.absolute import AbsolutePlaceholder

from .adapter import Replacement, Target
from .generations import Generations, Reuse
from .linebreaks import FontConfigurations

#: Section layouts are kept in two generations of at most this many (as lines are in
#: :mod:`.linebreaks`): sections used again stay, the others go. A kept section holds
#: the styles of the document it was laid out in, about 120 KiB each, so this bounds
#: what a worker keeps to some 35 MiB. Measured over 1,400 renders of a clinic's week:
#: memory stops growing after about 600 renders, and two thirds of sections are placed
#: from a kept layout (72% with 400, at 30 MiB more).
GENERATION_SECTIONS = 150

TARGET = Target(
    block,
    "block_level_layout",
    "weasyprint.layout.block.block_level_layout",
    "(context, box, bottom_space, skip_stack, containing_block, page_is_empty=True, "
    "absolute_boxes=None, fixed_boxes=None, adjoining_margins=None, first_letter_style=None, "
    "first_line_style=None, discard=False, max_lines=None)",
)
_original: Callable[..., tuple[Any, ...]] = TARGET.original


@dataclass(frozen=True)
class KeptLayout:
    """A laid-out block kept to be placed again: a section here, a table cell in .cells."""

    box: Any  # the laid-out block, never handed out itself
    elements: tuple[Any, ...]  # what it was laid out from, in the order a new block's pair up
    position_y: float
    extent: float  # from where the block starts to the bottom of its margin box
    resume_at: Any  # where the rest starts on the next page; None when it fits whole
    next_page: Any
    adjoining_margins: tuple[float, ...]
    collapsing_through: bool


def kept_layout(
    result: tuple[Any, ...], elements: Iterable[Any], start_y: float, extent: float
) -> KeptLayout:
    """What to keep of WeasyPrint's ``result`` for a block laid out from ``elements``."""
    new_box, resume_at, next_page, adjoining_margins, collapsing_through, _ = result
    return KeptLayout(
        box=copy_layout(new_box, {}),
        elements=tuple(elements),
        position_y=start_y,
        extent=extent,
        resume_at=copy.deepcopy(resume_at),
        next_page=dict(next_page),
        adjoining_margins=tuple(adjoining_margins),
        collapsing_through=collapsing_through,
    )


def placed(kept: KeptLayout, elements: Iterable[Any], start_y: float) -> tuple[Any, ...]:
    """A copy of ``kept`` on this block's ``elements``, moved to ``start_y``, as WeasyPrint
    returns a layout."""
    pairs = {id(old): new for old, new in zip(kept.elements, elements, strict=True)}
    new_box = copy_layout(kept.box, pairs)
    new_box.translate(dx=0, dy=start_y - kept.position_y)
    return (
        new_box,
        copy.deepcopy(kept.resume_at),
        dict(kept.next_page),
        list(kept.adjoining_margins),
        kept.collapsing_through,
        None,
    )


def _placeholders(box: Any) -> Iterator[Any]:
    for child in getattr(box, "children", ()):
        if isinstance(child, AbsolutePlaceholder):
            yield child
        else:
            yield from _placeholders(child)


def copy_layout(box: Any, elements: dict[int, Any]) -> Any:
    """A copy of the laid-out ``box`` and its descendants, on the new document's elements."""
    if isinstance(box, AbsolutePlaceholder):
        # Not laid out yet: the page places it after the section, from its static position.
        return AbsolutePlaceholder(copy_layout(box._box, elements))
    new = box.copy()
    new.element = elements.get(id(box.element), box.element)
    if isinstance(box, boxes.ParentBox):
        new.children = [copy_layout(child, elements) for child in box.children]
    if isinstance(box, boxes.TableBox):
        new.column_groups = [copy_layout(group, elements) for group in box.column_groups]
    if (layout := vars(box).get("pango_layout")) is not None:
        # Drawing updates the line it draws (see linebreaks).
        new.pango_layout = copy.copy(layout)
    return new


def _frozen_skip_stack(skip_stack: dict[int, Any] | None) -> Hashable:
    if skip_stack is None:
        return None
    return tuple(sorted((index, _frozen_skip_stack(rest)) for index, rest in skip_stack.items()))


def asks_more_than_kept(
    context: Any,
    box: Any,
    first_letter_style: Any,
    first_line_style: Any,
    discard: bool,
    max_lines: int | None,
) -> bool:
    """Whether laying out ``box`` here depends on more than a kept layout holds: a first
    letter or line style, discarded content, a line limit or a float of the page
    reaching down past where the box starts."""
    return (
        first_letter_style is not None
        or first_line_style is not None
        or discard
        or max_lines is not None
        or any(
            shape.position_y + shape.margin_height() > box.position_y
            for shape in context.excluded_shapes
        )
    )


class SharedSections:
    """Section layouts kept between documents."""

    def __init__(self, font_configs: FontConfigurations) -> None:
        self.reuse = Reuse()
        #: Of those, the parts of sections broken across pages.
        self.broken = Reuse()
        self.kept: Generations[KeptLayout] = Generations(GENERATION_SECTIONS)
        #: What every section of the document being rendered inherits: the root
        #: element's attributes (set for each render).
        self.document_key: Hashable = None
        self.font_configs = font_configs
        self.replacements = (Replacement(TARGET, self.block_level_layout),)

    def block_level_layout(
        self,
        context: Any,
        box: Any,
        bottom_space: float,
        skip_stack: Any,
        containing_block: Any,
        page_is_empty: bool = True,
        absolute_boxes: list[Any] | None = None,
        fixed_boxes: list[Any] | None = None,
        adjoining_margins: list[float] | None = None,
        first_letter_style: Any = None,
        first_line_style: Any = None,
        discard: bool = False,
        max_lines: int | None = None,
    ) -> tuple[Any, ...]:
        arguments = (
            context,
            box,
            bottom_space,
            skip_stack,
            containing_block,
            page_is_empty,
            absolute_boxes,
            fixed_boxes,
            adjoining_margins,
            first_letter_style,
            first_line_style,
            discard,
            max_lines,
        )
        if (
            box.element_tag != "section"
            or type(box) is not boxes.BlockBox
            # Not an anonymous box or a pseudo-element of the section's.
            or not isinstance(box.style, ComputedStyle)
            or box.style.pseudo_type is not None
            or absolute_boxes is None
            or fixed_boxes is None
            or asks_more_than_kept(
                context, box, first_letter_style, first_line_style, discard, max_lines
            )
        ):
            return _original(*arguments)

        start_y = box.position_y
        room = context.page_bottom - bottom_space - start_y
        truncates_margins = page_is_empty and context.current_page > 1
        key = (
            self.document_key,
            self.font_configs.serial(context.font_config),
            ElementTree.tostring(box.element, encoding="unicode"),
            box.position_x,
            containing_block.width,
            tuple(adjoining_margins or ()),
            page_is_empty,
            truncates_margins,
            truncates_margins and context.forced_break,
            bottom_space,
        )
        # A section that fits whole fits wherever there is as much room; a broken one
        # breaks in the same place only with the same room (and the same part before).
        broken_key = (*key, _frozen_skip_stack(skip_stack), room)
        layout = self.kept.get(key) if skip_stack is None else None
        if layout is None or layout.extent > room:
            layout = self.kept.get(broken_key)
        if layout is not None and (layout.resume_at is not None or layout.extent <= room):
            self.reuse.hits += 1
            if layout.resume_at is not None or skip_stack is not None:
                self.broken.hits += 1
            # The same HTML: the elements pair up.
            result = placed(layout, box.element.iter(), start_y)
            absolute_boxes.extend(_placeholders(result[0]))
            return result

        self.reuse.misses += 1
        counts = (len(absolute_boxes), len(fixed_boxes), len(context.excluded_shapes))
        broken_out_of_flow = len(context.broken_out_of_flow)
        result = _original(*arguments)
        new_box, resume_at, *_ = result
        if new_box is None:
            return result
        whole = skip_stack is None and resume_at is None
        extent = new_box.position_y + new_box.margin_height() - start_y
        added, inside = absolute_boxes[counts[0] :], list(_placeholders(new_box))
        if (
            (extent <= room or not whole)
            # WeasyPrint passes one list for both at the page's root.
            and (fixed_boxes is absolute_boxes or len(fixed_boxes) == counts[1])
            and len(context.excluded_shapes) == counts[2]
            and len(context.broken_out_of_flow) == broken_out_of_flow
            # Only list markers waiting for the page to place them, as the copy recreates.
            and len(added) == len(inside)
            and all(a is b and not a._layout_done for a, b in zip(added, inside, strict=True))
        ):
            self.kept.put(
                key if whole else broken_key,
                kept_layout(result, box.element.iter(), start_y, extent),
            )
        return result
