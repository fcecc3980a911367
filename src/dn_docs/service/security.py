"""Secrets: API keys (random, shown once, stored as a hash) and encryption at rest.

Stored requests, uploads and PDFs are sealed with AES-256-GCM under a key derived
(HKDF-SHA256) from ``DN_DOCS_SECRET_KEY``. Each sealed value names which key sealed it,
so keys can be rotated (list the new key first), and is bound to the row and column it
belongs to, so a sealed request cannot be moved to another document.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import DnDocsError

_VERSION = b"\x01"
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12
KEY_PREFIX = "dnd"


class Cipher:
    """Seals and opens values at rest; the first key seals, any key opens."""

    def __init__(self, materials: Sequence[bytes]) -> None:
        if not materials:
            raise DnDocsError("no encryption key configured")
        self._keys: dict[bytes, AESGCM] = {}
        self._sealing = b""
        for material in materials:
            key = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"dn-docs at rest 1"
            ).derive(material)
            key_id = hashlib.sha256(key).digest()[:_KEY_ID_BYTES]
            self._keys[key_id] = AESGCM(key)
            self._sealing = self._sealing or key_id

    def seal(self, data: bytes, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self._sealing].encrypt(nonce, data, context.encode("utf-8"))
        return _VERSION + self._sealing + nonce + sealed

    def open(self, blob: bytes, context: str) -> bytes:
        head = 1 + _KEY_ID_BYTES
        if blob[:1] != _VERSION or blob[1:head] not in self._keys:
            raise DnDocsError("a stored value was sealed with a key that is not configured")
        nonce, sealed = blob[head : head + _NONCE_BYTES], blob[head + _NONCE_BYTES :]
        try:
            return self._keys[blob[1:head]].decrypt(nonce, sealed, context.encode("utf-8"))
        except InvalidTag:
            raise DnDocsError("a stored value does not open with the configured key") from None


@cache
def cipher() -> Cipher:
    """This process's cipher, from the settings."""
    from .settings import settings

    return Cipher(settings().secret_keys())


@dataclass(frozen=True)
class NewKey:
    """A freshly made API key: ``secret`` is shown once and never stored."""

    key_id: str
    secret: str
    digest: str


def new_api_key() -> NewKey:
    key_id = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key_id, secret, key_digest(secret))


def key_digest(secret: str) -> str:
    # The key has 256 random bits: a fast hash is as safe as a slow one, and it is
    # checked on every call.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def key_id_of(secret: str) -> str | None:
    """The key id a presented key claims, or None if it is not shaped like a key."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


def digest_matches(secret: str, digest: str) -> bool:
    return hmac.compare_digest(key_digest(secret), digest)


@cache
def web_key() -> bytes:
    """The web app's HMAC key (CSRF tokens, sign-in throttling), derived from the first
    ``DN_DOCS_SECRET_KEY``: every server of a deployment derives the same one."""
    from .settings import settings

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"dn-docs web 1").derive(
        settings().secret_keys()[0]
    )


def web_digest(*parts: str) -> str:
    """A keyed digest of ``parts``: stable for this deployment, meaningless without its key."""
    return hmac.new(web_key(), "\x00".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()
