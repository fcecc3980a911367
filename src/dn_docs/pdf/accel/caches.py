"""Everything a warm renderer keeps between documents, in one object it owns.

Each part lives in its own module and brings the replacements that use it (see
:mod:`.adapter`). Nothing is kept at module level: two renderers keep two sets, and a
render touches its renderer's set only while it holds the render lock.
"""

from __future__ import annotations

from collections.abc import Hashable

from . import pagelist, widths
from .adapter import Replacement, Target
from .cascade import TARGET as CASCADE
from .cascade import SharedCascade
from .cells import TARGET as CELLS
from .cells import SharedCells
from .drawnlines import DRAW_FIRST_LINE, DRAW_TEXT, SharedDrawing
from .generations import Generations
from .linebreaks import TARGETS as LINE_BREAKING
from .linebreaks import FontConfigurations, SharedLineBreaking, StyleKeys
from .margins import TARGET as MARGINS
from .margins import SharedMarginBoxes
from .markers import TARGET as MARKERS
from .markers import SharedMarkers
from .parsing import TARGETS as PARSING
from .parsing import SectionParser
from .sections import TARGET as SECTIONS
from .sections import SharedSections
from .styles import TARGET as STYLES
from .styles import SharedStyles
from .subsets import TARGET as SUBSETS
from .subsets import SharedSubsets

#: Every WeasyPrint and pydyf attribute the acceleration stands in for or calls.
TARGETS: tuple[Target, ...] = (
    STYLES,
    CASCADE,
    *LINE_BREAKING,
    SECTIONS,
    CELLS,
    MARKERS,
    MARGINS,
    *widths.TARGETS,
    *widths.USED,
    DRAW_TEXT,
    DRAW_FIRST_LINE,
    pagelist.TARGET,
    SUBSETS,
    *PARSING,
)


class Caches:
    """What one warm renderer keeps between documents, and how often it was reused."""

    def __init__(self, cascade_by_section: bool = True) -> None:
        font_configs = FontConfigurations()
        self.style_keys = StyleKeys(font_configs)
        self.parsing = SectionParser()
        self.styles = SharedStyles()
        self.cascade = SharedCascade(self.styles)
        self.lines = SharedLineBreaking(self.style_keys)
        self.sections = SharedSections(font_configs)
        self.cells = SharedCells(font_configs)
        self.markers = SharedMarkers()
        self.margins = SharedMarginBoxes()
        self.drawing = SharedDrawing(self.style_keys)
        self.subsets = SharedSubsets()
        #: Renders done with these caches (for tests and the benchmark).
        self.renders = 0
        #: Whether sections' styles are handed out again (see :mod:`.cascade`).
        self.cascade_by_section = cascade_by_section
        self.replacements: tuple[Replacement, ...] = (
            *self.styles.replacements,
            *(self.cascade.replacements if cascade_by_section else ()),
            *self.lines.replacements,
            *self.margins.replacements,
            *self.markers.replacements,
            *self.sections.replacements,
            *self.cells.replacements,
            *widths.REPLACEMENTS,
            *self.drawing.replacements,
            *pagelist.REPLACEMENTS,
            *self.subsets.replacements,
        )

    def begin(self, document_key: Hashable) -> None:
        """Before a render, under the render lock; ``document_key`` stands for what every
        section of the document inherits (see :mod:`.sections`)."""
        self.renders += 1
        # Every part's generations, found rather than listed, so none is left counting
        # one document forever (and keeping nothing it tries).
        for part in vars(self).values():
            if isinstance(kept := getattr(part, "kept", None), Generations):
                kept.begin_document()
        self.styles.learn_from_copies()
        self.sections.document_key = document_key

    def end(self) -> None:
        """After a render, however it ended: drop what only that document may use."""
        self.sections.document_key = None
        self.margins.forget()
        self.style_keys.forget()
