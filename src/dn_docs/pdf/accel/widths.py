"""Shrink-to-fit widths without the min-content width where it cannot matter.

A float, an inline block or an absolutely positioned box without a width is as wide
as its content allows: min(max(min-content, available), max-content). WeasyPrint
works out both content widths. The min-content width breaks the text at every
opportunity, one Pango call for each break; for the running header's floated patient
name those calls are new for every patient, about 4% of a warm render. When the
max-content width fits in the available width, that formula gives the max-content
width whatever the min-content width is, so the warm renderer does not compute it.
"""

from __future__ import annotations

from typing import Any

from weasyprint.layout import absolute, inline, preferred
from weasyprint.layout import float as floats

from .adapter import Replacement, Target

#: The modules that call ``shrink_to_fit``, each by the name it imported.
TARGETS = tuple(
    Target(
        module,
        "shrink_to_fit",
        "weasyprint.layout.preferred.shrink_to_fit",
        "(context, box, available_content_width)",
    )
    for module in (floats, inline, absolute)
)
#: What :func:`shrink_to_fit` calls of WeasyPrint's own.
USED = tuple(
    Target(preferred, name, f"weasyprint.layout.preferred.{name}", "(context, box, outer=True)")
    for name in ("max_content_width", "min_content_width")
)


def shrink_to_fit(context: Any, box: Any, available_content_width: float) -> float:
    """WeasyPrint's shrink-to-fit width, the min-content width computed only if needed."""
    maximum: float = preferred.max_content_width(context, box, outer=False)
    if maximum <= available_content_width:
        return maximum
    minimum: float = preferred.min_content_width(context, box, outer=False)
    return min(max(minimum, available_content_width), maximum)


#: Stateless: the same for every renderer.
REPLACEMENTS = tuple(Replacement(target, shrink_to_fit) for target in TARGETS)
