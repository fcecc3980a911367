"""One request through the whole pipeline: validate → select content → localized HTML → PDF."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from .compose import ComposedDocument, compose
from .limits import RENDER_SECONDS, time_limit
from .pdf import Renderer, default_renderer
from .record import record_file
from .request import DocumentRequest, parse_request
from .signing.captures import SignatureCapture
from .signing.settings import (
    FROM_ENVIRONMENT,
    FromEnvironment,
    Sealing,
    resolve_sealing,
    sealing_configured,
)


@dataclass(frozen=True)
class Document:
    """A rendered PDF and the facts about it that are safe to log and store (no patient data)."""

    composed: ComposedDocument
    pdf: bytes
    pages: int
    #: Whether the clinic's seal is on it (see :mod:`dn_docs.signing`).
    sealed: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def render_html(request: DocumentRequest | dict[str, Any]) -> str:
    """The localized HTML of the document ``request`` asks for, with its stylesheet inlined."""
    return compose(parse_request(request)).standalone_html


def render_document(
    request: DocumentRequest | dict[str, Any],
    renderer: Renderer | None = None,
    generated_at: dt.datetime | None = None,
    seconds: float | None = RENDER_SECONDS,
    *,
    sealing: Sealing | FromEnvironment | None = FROM_ENVIRONMENT,
    signatures: Sequence[SignatureCapture] = (),
) -> Document:
    """Render ``request``; a consent embeds its ``consent-record.json``.

    Then the PDF is sealed with ``sealing``: by default what ``DN_DOCS_SIGNING_KEY``
    and its companions configure (nothing when it is not set), ``None`` for no seal.
    Consents are sealed, handouts when the sealing says so. ``signatures`` (checked by
    :func:`dn_docs.signing.parse_captures`) are placed in their signature boxes and
    listed in the record; :func:`dn_docs.signing.sign_consent` is the way in for them.

    Rendering stops with RenderTimeoutError after ``seconds`` (in the main thread).
    """
    composed = compose(parse_request(request), signatures)
    when = (generated_at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    chosen = resolve_sealing(sealing)

    seal = record_file(composed, when) if composed.request.kind == "consent" else None
    with time_limit(seconds):
        rendered = (renderer or default_renderer()).render(composed, seal)
    pdf, sealed = rendered.data, False
    if chosen is not None and chosen.seals(composed.request.kind):
        from .signing.seal import seal_pdf

        pdf, sealed = seal_pdf(pdf, chosen), True
    return Document(composed=composed, pdf=pdf, pages=rendered.pages, sealed=sealed)


def render_pdf(request: DocumentRequest | dict[str, Any]) -> bytes:
    """The print-ready PDF of the document ``request`` asks for."""
    return render_document(request).pdf


#: The collector's thresholds after warm-up. A render makes some hundred thousand
#: short-lived objects, and Python's default of a young-generation pass every 700
#: allocations re-scans the survivors of the render in progress hundreds of times
#: (about 8% of a warm render, measured). Ten thousand keeps those passes rare; the
#: older generations are left as they are, so memory stays flat.
GC_THRESHOLD = (10_000, 10, 10)


#: The languages :func:`warm_up` renders its examples in unless told otherwise.
WARM_UP_LANGUAGES: tuple[str, ...] = ("en",)


def warm_up(languages: Iterable[str] = WARM_UP_LANGUAGES) -> None:
    """Prepare this process for many renders: a worker, a service, a long batch.

    Builds the warm renderer and renders the example consent and aftercare in each of
    ``languages``, so fonts, templates and WeasyPrint's own caches exist and the
    sections and lines those documents share with real ones are already laid out (see
    :mod:`dn_docs.pdf.accel.sections`); the examples are not sealed, but the sealing code is
    loaded when a key is configured. Then it freezes everything built so far: the garbage
    collector stops scanning those objects after every render (about 8% of the time).
    It also collects the youngest objects less often (see :data:`GC_THRESHOLD`).
    Once per process and set of languages; a forked child warms up again. The first
    render of a process also decides whether the acceleration may be used (see
    :mod:`dn_docs.pdf.accel.startup`): after an install or an upgrade, the first process
    renders the self-test's examples both ways, here rather than in its first job.
    """
    _warm_up(os.getpid(), tuple(languages))


@cache
def _warm_up(pid: int, languages: tuple[str, ...]) -> None:
    from .examples import example_request

    for language in languages:
        for kind in ("consent", "aftercare"):
            render_document(example_request(language, kind), sealing=None)
    if sealing_configured():
        # pyHanko takes most of a second to import: once here, not in the first job.
        # The key itself is loaded by the first job, which reports any problem with it.
        from .signing import seal  # noqa: F401
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
