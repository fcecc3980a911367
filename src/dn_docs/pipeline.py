"""One request through the whole pipeline: validate → select content → localized HTML → PDF."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .compose import ComposedDocument, compose
from .pdf import Renderer, default_renderer
from .request import DocumentRequest, parse_request


@dataclass(frozen=True)
class Document:
    """A rendered PDF and the facts about it that are safe to log and store (no patient data)."""

    composed: ComposedDocument
    pdf: bytes
    pages: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()

    @property
    def summary(self) -> dict[str, Any]:
        request = self.composed.request
        return {
            "kind": request.kind,
            "locale": request.locale,
            "pages": self.pages,
            "bytes": len(self.pdf),
            "sha256": self.sha256,
            "content_items": list(self.composed.selection.ids),
            **self.composed.stamp,
        }


def render_html(request: DocumentRequest | dict[str, Any]) -> str:
    """The localized HTML of the document ``request`` asks for."""
    return compose(parse_request(request)).html


def render_document(
    request: DocumentRequest | dict[str, Any], renderer: Renderer | None = None
) -> Document:
    composed = compose(parse_request(request))
    rendered = (renderer or default_renderer()).render(composed)
    return Document(composed=composed, pdf=rendered.data, pages=rendered.pages)


def render_pdf(request: DocumentRequest | dict[str, Any]) -> bytes:
    """The print-ready PDF of the document ``request`` asks for."""
    return render_document(request).pdf
