"""The only way WeasyPrint may load anything: bundled assets and inline data, nothing else.

WeasyPrint's default fetcher reads ``file://`` paths and network URLs. dn-docs
documents need neither, so every other URL stops the render with a
:class:`~dn_docs.errors.ResourceFetchError` instead of being fetched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .. import resources


class RefusedURLError(FatalURLFetchingError):  # type: ignore[misc]
    """Raised inside WeasyPrint; fatal, so the render stops instead of skipping the resource."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{reason}: {url[:80]}")


class SandboxFetcher(URLFetcher):  # type: ignore[misc]
    """Serves ``data:`` URLs and files inside the asset folders; refuses everything else."""

    def __init__(self, roots: tuple[Path, ...] | None = None) -> None:
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False)
        self.roots = tuple(root.resolve() for root in (roots or (resources.assets_dir(),)))

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise RefusedURLError(url, f"{scheme or 'relative'} URLs are not fetched")
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RefusedURLError(url, "remote file URLs are not fetched")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
            raise RefusedURLError(url, "only dn-docs' own assets are loaded")
        return URLFetcherResponse(path.as_uri(), path.read_bytes())
