"""The clinic's logo: a PNG, JPEG or SVG file inside the configured assets folder.

The file is read here and handed to the renderer as a ``data:`` URI, so the request
never names anything the renderer fetches. An SVG that refers to anything outside
itself is stopped by the sandboxed fetcher.
"""

from __future__ import annotations

import base64
import io
import os
import warnings
from pathlib import Path

from PIL import Image

from ..errors import RequestError
from ..limits import MAX_LOGO_BYTES, MAX_LOGO_PIXELS

#: Extension → (media type, how the file must start).
LOGO_TYPES = {
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".svg": ("image/svg+xml", (b"<svg", b"<?xml")),
}


def assets_folder() -> Path:
    """``DN_DOCS_ASSETS_DIR``, or ``assets/`` in the working directory."""
    return Path(os.environ.get("DN_DOCS_ASSETS_DIR", "assets")).resolve()


def _refuse(reason: str) -> RequestError:
    return RequestError([("clinic.logo", reason)])


def logo_data_uri(name: str, folder: Path | None = None) -> str:
    root = (folder or assets_folder()).resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise _refuse("must name a file inside the assets folder")
    media_type, signatures = LOGO_TYPES[path.suffix.lower()]
    if not path.is_file():
        raise _refuse(f"no such file in the assets folder ({root})")
    if path.stat().st_size > MAX_LOGO_BYTES:
        raise _refuse(f"is larger than {MAX_LOGO_BYTES // 1024} KiB")
    data = path.read_bytes()
    if not data.lstrip().startswith(signatures):
        raise _refuse(f"is not a {path.suffix.lower()[1:].upper()} file")
    if media_type != "image/svg+xml":
        _check_raster(data)
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _check_raster(data: bytes) -> None:
    """Refuse a PNG or JPEG that is too many pixels (read from its header, before any
    decoding) or that does not decode."""
    damaged = _refuse("is damaged or not a readable image")
    try:
        with warnings.catch_warnings():
            # Pillow warns about large images as it opens them; the limit here is lower.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (OSError, ValueError, Image.DecompressionBombError):
        raise damaged from None
    with image:
        width, height = image.size
        if width * height > MAX_LOGO_PIXELS:
            raise _refuse(
                f"is {width} x {height} pixels; a logo may have at most "
                f"{MAX_LOGO_PIXELS // 10**6} million"
            )
        try:
            image.load()
        except (OSError, ValueError):
            raise damaged from None
