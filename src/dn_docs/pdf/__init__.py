"""The PDF stage: sandboxed fetching, WeasyPrint rendering and its diagnostics.

The warm renderer's acceleration, and the lock every render holds, are in :mod:`.accel`.
"""

from . import libraries  # noqa: F401  (first: loads WeasyPrint's libraries quickly)
from .renderer import PDF_OPTIONS, RenderedPdf, Renderer, WeasyPrintRenderer, default_renderer

__all__ = ["PDF_OPTIONS", "RenderedPdf", "Renderer", "WeasyPrintRenderer", "default_renderer"]
