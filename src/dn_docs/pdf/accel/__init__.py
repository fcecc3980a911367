"""The warm renderer's acceleration: WeasyPrint functions stood in for, behind one adapter.

Each module keeps one kind of work between documents (parsed sections, styles, line
breaks, sections, table cells, list markers, margin boxes, drawn lines, font subsets)
and names the WeasyPrint or pydyf functions it stands in for. :mod:`.adapter` installs
them for one render at a time under the process-wide render lock; :mod:`.caches` holds
what a renderer keeps; :mod:`.startup` decides, once per process, whether the
acceleration may be used at all.
"""

from .adapter import (
    Installable,
    NestedRenderError,
    Replacement,
    Target,
    exclusively,
    lock_is_free,
)
from .caches import TARGETS, Caches
from .startup import Acceleration, acceleration, writer_is_compatible

__all__ = [
    "TARGETS",
    "Acceleration",
    "Caches",
    "Installable",
    "NestedRenderError",
    "Replacement",
    "Target",
    "acceleration",
    "exclusively",
    "lock_is_free",
    "writer_is_compatible",
]
