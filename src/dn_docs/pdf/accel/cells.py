"""Table cells laid out once.

The facts table at the top of every document has a row for each fact: the labels, the
treatment date, the practitioner, the clinic, electrical stimulation yes or no. Most of
its cells are the same for every patient of a clinic in a language, and WeasyPrint
lays out each one afresh, line by line: together about a tenth of a warm render. The
warm renderer keeps the layout of each cell that fits whole where it starts, and
places a copy of it, shifted up or down, wherever a cell of the same boxes starts
again: the same types, styles and texts, at the same width and horizontal position,
with as much room left on the page.

A cell's boxes are the same when each has the same kept style (see :mod:`.styles`;
anonymous boxes the kept style's anonymous style) and the same text. A cell with a
style of one document alone, one beside a float, or one that places absolute or fixed
boxes, is laid out by WeasyPrint as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any

from weasyprint.css import AnonymousStyle
from weasyprint.formatting_structure import boxes
from weasyprint.layout import block

from .adapter import Replacement, Target
from .generations import Generations, Reuse
from .linebreaks import FontConfigurations
from .sections import KeptLayout, asks_more_than_kept, kept_layout, placed
from .styles import kept_style_of

#: Cell layouts are kept in two generations of at most this many (see
#: :mod:`.generations`). A kept cell is a few boxes and lines, a few KiB.
GENERATION_CELLS = 2_000
#: A new cell layout waits among at most this many until a later document uses it; the
#: cells of the patient's own facts (name, birth date, areas) never are.
TRIAL_CELLS = 500

TARGET = Target(
    block,
    "block_container_layout",
    "weasyprint.layout.block.block_container_layout",
    "(context, box, bottom_space, skip_stack, page_is_empty, absolute_boxes, fixed_boxes, "
    "adjoining_margins, first_letter_style, first_line_style, discard, max_lines)",
)
_original: Callable[..., tuple[Any, ...]] = TARGET.original


def _style_key(style: Any) -> Hashable:
    kept_style = kept_style_of(style)
    if kept_style is not None:
        return id(kept_style)
    parent = style.parent_style
    # An anonymous box's style is made once for each parent style.
    if (
        isinstance(style, AnonymousStyle)
        and parent is not None
        and (vars(parent).get("anonymous_style") is style)
    ):
        inherited = _style_key(parent)
        return None if inherited is None else ("anonymous", inherited)
    return None


def _signature(cell: Any) -> tuple[Hashable, ...] | None:
    """The cell's boxes: their types, styles and texts; None if a style is not kept."""
    parts = []
    for box in cell.descendants(placeholders=True):
        style = _style_key(box.style)
        if style is None:
            return None
        parts.append((type(box), style, getattr(box, "text", None)))
    return tuple(parts)


def _elements(cell: Any) -> Iterator[Any]:
    return (each.element for each in cell.descendants(placeholders=True))


class SharedCells:
    """Table cell layouts kept between documents."""

    def __init__(self, font_configs: FontConfigurations) -> None:
        self.font_configs = font_configs
        self.reuse = Reuse()
        self.kept: Generations[KeptLayout] = Generations(GENERATION_CELLS, TRIAL_CELLS)
        self.replacements = (Replacement(TARGET, self.block_container_layout),)

    def block_container_layout(
        self,
        context: Any,
        box: Any,
        bottom_space: float,
        skip_stack: Any,
        page_is_empty: bool,
        absolute_boxes: list[Any],
        fixed_boxes: list[Any],
        adjoining_margins: list[float] | None,
        first_letter_style: Any,
        first_line_style: Any,
        discard: bool,
        max_lines: int | None,
    ) -> tuple[Any, ...]:
        # WeasyPrint's own arguments, passed on as they came.
        arguments = (
            context,
            box,
            bottom_space,
            skip_stack,
            page_is_empty,
            absolute_boxes,
            fixed_boxes,
            adjoining_margins,
            first_letter_style,
            first_line_style,
            discard,
            max_lines,
        )
        if type(box) is not boxes.TableCellBox or skip_stack is not None:
            return _original(*arguments)
        signature = _signature(box)
        if (
            signature is None
            or adjoining_margins
            or asks_more_than_kept(
                context, box, first_letter_style, first_line_style, discard, max_lines
            )
        ):
            return _original(*arguments)
        start_y = box.position_y
        room = context.page_bottom - bottom_space - start_y
        key = (
            signature,
            self.font_configs.serial(context.font_config),
            box.position_x,
            box.width,
            box.colspan,
            box.rowspan,
            page_is_empty,
        )
        cell = self.kept.get(key)
        if cell is not None and cell.extent <= room:
            self.reuse.hits += 1
            # The same boxes in the same order: their elements pair up.
            return placed(cell, _elements(box), start_y)

        self.reuse.misses += 1
        counts = (len(absolute_boxes), len(fixed_boxes), len(context.excluded_shapes))
        result = _original(*arguments)
        new_box, resume_at, *_ = result
        if new_box is None or resume_at is not None:
            return result
        extent = new_box.position_y + new_box.margin_height() - start_y
        if extent <= room and counts == (
            len(absolute_boxes),
            len(fixed_boxes),
            len(context.excluded_shapes),
        ):
            self.kept.put(key, kept_layout(result, _elements(box), start_y, extent))
        return result
