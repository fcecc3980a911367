"""PDF rendering behind one small interface, and the warm WeasyPrint renderer dn-docs uses.

A :class:`WeasyPrintRenderer` keeps what costs time to build and is the same for
every document: the font configuration and the parsed print stylesheet. Build
one per process, after any fork (:func:`default_renderer` does this lazily).
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cache
from typing import Protocol
from xml.etree import ElementTree

import weasyprint
from weasyprint.text.fonts import FontConfiguration

from .. import fonts, resources
from ..compose import ComposedDocument
from ..errors import RenderError, ResourceFetchError
from .cascade import independent_of_siblings, shared_cascade
from .cells import shared_cells
from .diagnostics import watched_render
from .drawnlines import shared_drawing
from .embed import Sealer, finisher
from .fetcher import RefusedURLError, SandboxFetcher
from .linebreaks import shared_line_breaking
from .margins import shared_margin_boxes
from .markers import shared_markers
from .pagelist import page_references_kept
from .parsing import ParsedHTML, parse_sections
from .sections import shared_section_layout
from .styles import shared_styles
from .subsets import shared_subsets
from .widths import lazy_shrink_to_fit

#: Options passed to every ``write_pdf`` call (see ``weasyprint.DEFAULT_OPTIONS``).
#: Fonts are subset (HarfBuzz when ``libharfbuzz-subset0`` is installed) and hinting
#: dropped; the PDF identifier is derived from the text, so the same document gives
#: the same bytes.
PDF_OPTIONS: dict[str, object] = {
    "full_fonts": False,
    "hinting": False,
    "optimize_images": True,
    "uncompressed_pdf": False,
    "presentational_hints": False,
}
#: Added for archival output: PDF/A-3u (Unicode text, embedded fonts, sRGB output
#: intent, XMP identification) with a tagged structure tree.
ARCHIVAL_OPTIONS: dict[str, object] = {"pdf_variant": "pdf/a-3u", "pdf_tags": True}


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int


class Renderer(Protocol):
    """Turns composed HTML into PDF bytes.

    ``seal``, when given, is called with the text fingerprint of each page and returns
    a file to embed; the renderer embeds it before the PDF is written.
    """

    def render(self, document: ComposedDocument, seal: Sealer | None = None) -> RenderedPdf: ...


class WeasyPrintRenderer:
    """A warm WeasyPrint renderer: fonts and stylesheet are prepared once and reused.

    With ``reuse_layout`` (the default) what was parsed, computed, laid out and drawn
    for an earlier document is reused: parsed sections (see :mod:`.parsing`), element
    styles (see :mod:`.styles`), broken lines (see :mod:`.linebreaks`), whole sections
    (see :mod:`.sections`), list markers (see :mod:`.markers`) and drawn lines (see
    :mod:`.drawnlines`); each page's running header and stamp are laid out once (see
    :mod:`.margins`); a section's styles are handed out again (see :mod:`.cascade`); a
    float's min-content width is left out where it cannot matter (see :mod:`.widths`).
    Without it every document is parsed, laid out and drawn from scratch.
    """

    def __init__(self, reuse_layout: bool = True) -> None:
        self.reuse_layout = reuse_layout
        self.fetcher = SandboxFetcher()
        self.font_config = FontConfiguration()
        self.base_url = resources.assets_dir().as_uri() + "/"
        css = resources.print_css() + fonts.font_css()
        #: Whether sections' styles can be handed out again (see :mod:`.cascade`).
        self.cascade_by_section = reuse_layout and independent_of_siblings(css)
        self.stylesheet = weasyprint.CSS(
            string=css,
            base_url=self.base_url,
            url_fetcher=self.fetcher,
            font_config=self.font_config,
        )

    def render(self, document: ComposedDocument, seal: Sealer | None = None) -> RenderedPdf:
        options = dict(PDF_OPTIONS)
        if document.request.options.pdf_a:
            options.update(ARCHIVAL_OPTIONS)
        options["pdf_identifier"] = document.text_hash[:32].encode("ascii")
        try:
            with watched_render():
                if self.reuse_layout:
                    copies: dict[ElementTree.Element, Hashable] = {}
                    root = parse_sections(document.html, copies)
                    html = ParsedHTML(root, self.base_url, self.fetcher, copies)
                else:
                    html = weasyprint.HTML(
                        string=document.html, base_url=self.base_url, url_fetcher=self.fetcher
                    )
                with ExitStack() as reuse:
                    if self.reuse_layout:
                        root_attributes = tuple(sorted(html.etree_element.attrib.items()))
                        reuse.enter_context(shared_styles())
                        if self.cascade_by_section:
                            reuse.enter_context(shared_cascade())
                        reuse.enter_context(shared_line_breaking())
                        reuse.enter_context(shared_margin_boxes())
                        reuse.enter_context(shared_markers())
                        reuse.enter_context(shared_section_layout(root_attributes))
                        reuse.enter_context(shared_cells())
                        reuse.enter_context(lazy_shrink_to_fit())
                    laid_out = html.render(
                        stylesheets=[self.stylesheet], font_config=self.font_config
                    )
                with ExitStack() as reuse:
                    if self.reuse_layout:
                        reuse.enter_context(shared_drawing())
                        reuse.enter_context(page_references_kept())
                        reuse.enter_context(shared_subsets())
                    data = laid_out.write_pdf(
                        finisher=finisher(seal, compress=not options["uncompressed_pdf"]),
                        **options,
                    )
        except RefusedURLError as exc:
            raise ResourceFetchError(f"refused to load a resource ({exc.reason})") from None
        if not data:
            raise RenderError("the renderer produced no PDF")
        return RenderedPdf(data=data, pages=len(laid_out.pages))


@cache
def _renderer_for(pid: int) -> WeasyPrintRenderer:
    return WeasyPrintRenderer()


def default_renderer() -> WeasyPrintRenderer:
    """This process's warm renderer (a forked child builds its own on first use)."""
    return _renderer_for(os.getpid())
