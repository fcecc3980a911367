"""PDF rendering behind one small interface, and the warm WeasyPrint renderer dn-docs uses.

A :class:`WeasyPrintRenderer` keeps what costs time to build and is the same for
every document: the font configuration and the parsed print stylesheet. Build
one per process, after any fork (:func:`default_renderer` does this lazily).

Every render, accelerated or plain, holds the process-wide render lock (see
:mod:`.accel.adapter`): renders from several threads are correct and take turns.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol
from xml.etree import ElementTree

import weasyprint
from weasyprint.text.fonts import FontConfiguration

from .. import fonts, resources
from ..compose import ComposedDocument
from ..errors import RenderError, ResourceFetchError
from . import accel
from .accel.cascade import independent_of_siblings
from .accel.parsing import ParsedHTML
from .diagnostics import RenderLog, missing_codepoints
from .embed import Sealer, finisher
from .fetcher import RefusedURLError, SandboxFetcher

log = logging.getLogger("dn_docs.render")

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
#: The self-test's consent records are dated, so their bytes do not change.
_SELF_TEST_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


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

    With ``reuse_layout`` (the default), and when the start-up check allows it (see
    :mod:`.accel.startup`), what was parsed, computed, laid out and drawn for an earlier
    document is reused (see :mod:`.accel`); the renderer keeps it in :attr:`caches`.
    Otherwise every document is parsed, laid out and drawn from scratch.
    """

    def __init__(self, reuse_layout: bool = True) -> None:
        self.reuse_layout = reuse_layout
        self.fetcher = SandboxFetcher()
        self.font_config = FontConfiguration()
        self.base_url = resources.assets_dir().as_uri() + "/"
        css = resources.print_css() + fonts.font_css()
        self.caches = accel.Caches(cascade_by_section=independent_of_siblings(css))
        self.stylesheet = accel.exclusively(
            lambda _: weasyprint.CSS(
                string=css,
                base_url=self.base_url,
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
        )

    @property
    def cascade_by_section(self) -> bool:
        """Whether sections' styles can be handed out again (see :mod:`.accel.cascade`)."""
        return self.reuse_layout and self.caches.cascade_by_section

    def render(self, document: ComposedDocument, seal: Sealer | None = None) -> RenderedPdf:
        accelerate = self.reuse_layout and accel.acceleration(self).on
        return self.render_as(document, seal, accelerate)

    def render_as(
        self, document: ComposedDocument, seal: Sealer | None, accelerate: bool
    ) -> RenderedPdf:
        """Render accelerated or from scratch, whatever the start-up check said."""
        options = dict(PDF_OPTIONS)
        if document.request.options.pdf_a:
            options.update(ARCHIVAL_OPTIONS)
        options["pdf_identifier"] = document.text_hash[:32].encode("ascii")
        render_log = RenderLog()
        installables: list[accel.Installable] = [render_log]
        if accelerate:
            installables += self.caches.replacements
        work = partial(self._render, document, seal, options, accelerate)
        try:
            rendered = accel.exclusively(work, installables, accel.TARGETS if accelerate else ())
        except RefusedURLError as exc:
            raise ResourceFetchError(f"refused to load a resource ({exc.reason})") from None
        render_log.raise_problems()
        if not rendered.data:
            raise RenderError("the renderer produced no PDF")
        return rendered

    def _render(
        self,
        document: ComposedDocument,
        seal: Sealer | None,
        options: dict[str, Any],
        accelerate: bool,
        accelerated: bool,
    ) -> RenderedPdf:
        """Holding the render lock; ``accelerated`` when the replacements are installed."""
        if accelerate and not accelerated:
            _replaced_after_start_up()
        caches = self.caches if accelerate and accelerated else None
        if caches is not None:
            copies: dict[ElementTree.Element, Hashable] = {}
            root = caches.parsing.parse_sections(document.html, copies)
            html: Any = ParsedHTML(root, self.base_url, self.fetcher, copies)
            caches.begin(tuple(sorted(root.attrib.items())))
        else:
            html = weasyprint.HTML(
                string=document.html, base_url=self.base_url, url_fetcher=self.fetcher
            )
        try:
            laid_out = html.render(stylesheets=[self.stylesheet], font_config=self.font_config)
            write = finisher(
                seal,
                compress=not options["uncompressed_pdf"],
                faster=accel.writer_is_compatible(),
                **({"compressed": caches.subsets.compressed} if caches is not None else {}),
            )
            data = laid_out.write_pdf(finisher=write, **options)
        finally:
            if caches is not None:
                caches.end()
        return RenderedPdf(data=data, pages=len(laid_out.pages))

    # What the start-up check needs (see accel.startup.SelfTestRenderer).

    def render_both_ways(self, request: dict[str, Any]) -> tuple[bytes, bytes]:
        from ..compose import compose
        from ..record import record_file
        from ..request import parse_request

        composed = compose(parse_request(request))
        consent = composed.request.kind == "consent"
        seal = record_file(composed, _SELF_TEST_TIME) if consent else None
        accelerated = self.render_as(composed, seal, accelerate=True).data
        return accelerated, self.render_as(composed, seal, accelerate=False).data

    def missing_glyphs_reported(self, text: str) -> list[str]:
        render_log = RenderLog(quiet=True)

        def work(_: bool) -> None:
            document = weasyprint.HTML(
                string=f"<p>{text}</p>", base_url=self.base_url, url_fetcher=self.fetcher
            )
            document.render(font_config=self.font_config).write_pdf()

        accel.exclusively(work, [render_log])
        return missing_codepoints(render_log.records)


_told: list[bool] = []


def _replaced_after_start_up() -> None:
    if not _told:
        _told.append(True)
        log.warning(
            "a WeasyPrint function the acceleration stands in for was replaced after "
            "start-up; documents are rendered plainly while it is"
        )


_default_lock = threading.Lock()
_renderers: dict[int, WeasyPrintRenderer] = {}


def default_renderer() -> WeasyPrintRenderer:
    """This process's warm renderer (a forked child builds its own on first use)."""
    pid = os.getpid()
    renderer = _renderers.get(pid)
    if renderer is None:
        with _default_lock:
            renderer = _renderers.get(pid)
            if renderer is None:
                renderer = _renderers[pid] = WeasyPrintRenderer()
    return renderer
