"""Signatures captured on a tablet: who signed, when, on what device, having seen which document.

A :class:`SignatureCapture` is what the signing screen hands over for one signer:
the role they sign in, their printed name, the time, the browser's user agent, the
SHA-256 of the document they were shown, and the PNG drawn on the signature pad
(none for a typed name). :func:`parse_captures` validates a list of them; the
image is flattened onto white, cropped to the ink and re-encoded, so what is
placed in the document is a plain picture of the signature and nothing else the
file carried.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from ..errors import RequestError
from ..request import Name, field_problems

#: The largest signature image accepted, and its largest sides in pixels.
MAX_IMAGE_BYTES = 512 * 1024
MAX_IMAGE_SIDE = 4000
#: Height the ink is scaled down to (if taller): enough for print, small in the PDF.
PLACED_HEIGHT = 240
MAX_USER_AGENT = 512
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: Pixels lighter than this on every channel count as paper, not ink.
_PAPER = 235


class Role(StrEnum):
    """Who signs. Each role signs in its own box of the consent, at most once."""

    PATIENT = "patient"
    GUARDIAN = "guardian"
    MINOR = "minor"
    INTERPRETER = "interpreter"
    WITNESS = "witness"
    PRACTITIONER = "practitioner"


def _plain_text(value: str) -> str:
    # A user agent is recorded, never printed: only control characters are refused.
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("contains control characters")
    return value


UserAgent = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_USER_AGENT),
    AfterValidator(_plain_text),
]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class SignatureCapture(BaseModel):
    """One signer's signature, as the signing screen captured it."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, val_json_bytes="base64"
    )

    role: Role
    #: The signer's name as it is printed beside the signature.
    name: Name
    #: When the signer signed, with its UTC offset.
    signed_at: AwareDatetime
    user_agent: UserAgent
    #: SHA-256 (hex) of the document the signer was shown.
    document_sha256: Sha256
    #: The PNG drawn on the signature pad; ``None`` when the signer typed their name.
    image: bytes | None = Field(default=None, repr=False)

    @property
    def method(self) -> str:
        return "typed" if self.image is None else "drawn"

    @property
    def image_sha256(self) -> str | None:
        return hashlib.sha256(self.image).hexdigest() if self.image is not None else None

    def audit_entry(self) -> dict[str, Any]:
        """The signer's line in the consent record's audit trail."""
        return {
            "role": self.role.value,
            "name": self.name,
            "signed_at": self.signed_at.isoformat(timespec="seconds"),
            "user_agent": self.user_agent,
            "document_sha256": self.document_sha256,
            "method": self.method,
            "image_sha256": self.image_sha256,
        }


def parse_captures(
    captures: Sequence[SignatureCapture | Mapping[str, Any]], shown_sha256: str
) -> tuple[SignatureCapture, ...]:
    """Validate ``captures`` (objects or dicts) for the document whose SHA-256 is ``shown_sha256``.

    Each role signs once; each signer must have been shown that document. Images
    come back normalised (see the module docstring). Problems raise one
    :class:`RequestError` naming every field, as ``signatures[1].image``.
    """
    problems: list[tuple[str, str]] = []
    parsed: list[SignatureCapture] = []
    seen_roles: set[Role] = set()
    for index, item in enumerate(captures):
        where = f"signatures[{index}]"
        try:
            capture = (
                item
                if isinstance(item, SignatureCapture)
                else SignatureCapture.model_validate(dict(item))
            )
        except ValidationError as exc:
            problems.extend(field_problems(exc, where))
            continue
        except TypeError:
            problems.append((where, "must be an object"))
            continue
        if capture.role in seen_roles:
            problems.append((f"{where}.role", f"{capture.role} signs only once"))
        seen_roles.add(capture.role)
        if capture.document_sha256 != shown_sha256:
            problems.append(
                (f"{where}.document_sha256", "the signer was shown another document than this one")
            )
        if capture.image is not None:
            try:
                capture = capture.model_copy(update={"image": normalized_image(capture.image)})
            except ValueError as exc:
                problems.append((f"{where}.image", str(exc)))
        parsed.append(capture)
    if not captures:
        problems.append(("signatures", "must have at least 1 item(s)"))
    if problems:
        raise RequestError(problems)
    return tuple(parsed)


def normalized_image(png: bytes) -> bytes:
    """The signature in ``png`` on white, cropped to its ink, as a fresh RGB PNG.

    Raises ValueError with the reason when it is not a usable signature picture.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(png) > MAX_IMAGE_BYTES:
        raise ValueError(f"is larger than {MAX_IMAGE_BYTES // 1024} KiB")
    if not png.startswith(_PNG_MAGIC):
        raise ValueError("is not a PNG image")
    try:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as source:
            if max(source.size) > MAX_IMAGE_SIDE:
                raise ValueError(f"is larger than {MAX_IMAGE_SIDE} pixels on a side")
            rgba = source.convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise ValueError("is not a readable PNG image") from None
    paper = Image.new("RGBA", rgba.size, "white")
    flat = Image.alpha_composite(paper, rgba).convert("RGB")
    ink = ImageOps.invert(flat.convert("L")).point(lambda level: 255 if level > 255 - _PAPER else 0)
    box = ink.getbbox()
    if box is None:
        raise ValueError("is blank: nothing was drawn")
    signature = flat.crop(box)
    if signature.height > PLACED_HEIGHT:
        width = max(1, round(signature.width * PLACED_HEIGHT / signature.height))
        signature = signature.resize((width, PLACED_HEIGHT), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    signature.save(out, "PNG", optimize=True)
    return out.getvalue()
