"""The PDF stage: sandboxed fetching, WeasyPrint rendering and its diagnostics."""

from .renderer import PDF_OPTIONS, RenderedPdf, Renderer, WeasyPrintRenderer, default_renderer

__all__ = ["PDF_OPTIONS", "RenderedPdf", "Renderer", "WeasyPrintRenderer", "default_renderer"]
