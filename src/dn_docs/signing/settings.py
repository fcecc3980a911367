"""What sealing uses, from the caller or from the environment.

Reading the environment is cheap when no key is configured: the key material
(cryptography) is loaded only when ``DN_DOCS_SIGNING_KEY`` is set, and once per
process for the same files and settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..errors import SigningError

if TYPE_CHECKING:
    from cryptography import x509

    from .keys import SigningKey

SIGNING_KEY = "DN_DOCS_SIGNING_KEY"
SIGNING_PASSWORD = "DN_DOCS_SIGNING_PASSWORD"  # noqa: S105 - the variable's name, not a secret
TSA_URL = "DN_DOCS_TSA_URL"
SEAL_HANDOUTS = "DN_DOCS_SEAL_HANDOUTS"
TRUST_ROOTS = "DN_DOCS_TRUST_ROOTS"

#: Seconds to wait for the timestamp authority.
TSA_TIMEOUT = 10.0

_TRUE = {"1", "true", "yes", "on"}


def check_tsa_url(url: str, field: str = "tsa_url") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SigningError(f"{field}: not an http(s) URL of an RFC 3161 timestamp authority")
    return url


@dataclass(frozen=True)
class Sealing:
    """Seal documents with ``key``, timestamped by ``timestamp_url`` when given.

    Consents are always sealed; aftercare handouts only with ``handouts``.
    """

    key: SigningKey
    timestamp_url: str | None = None
    handouts: bool = False

    def __post_init__(self) -> None:
        if self.timestamp_url is not None:
            check_tsa_url(self.timestamp_url)

    def seals(self, kind: str) -> bool:
        return kind == "consent" or self.handouts


class FromEnvironment(Enum):
    """The sealing the environment configures (see :func:`sealing_from_environment`)."""

    ENVIRONMENT = "environment"


FROM_ENVIRONMENT = FromEnvironment.ENVIRONMENT


def resolve_sealing(sealing: Sealing | FromEnvironment | None) -> Sealing | None:
    return sealing_from_environment() if sealing is FROM_ENVIRONMENT else sealing


def sealing_configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``DN_DOCS_SIGNING_KEY`` is set (without loading anything)."""
    return bool(environ.get(SIGNING_KEY, "").strip())


def sealing_from_environment(environ: Mapping[str, str] = os.environ) -> Sealing | None:
    """The sealing ``DN_DOCS_SIGNING_KEY`` and its companions configure, or None."""
    if not sealing_configured(environ):
        return None
    path = environ[SIGNING_KEY].strip()
    tsa_url = environ.get(TSA_URL, "").strip() or None
    if tsa_url:
        check_tsa_url(tsa_url, TSA_URL)
    handouts = environ.get(SEAL_HANDOUTS, "").strip().lower() in _TRUE
    key_path = Path(path)
    try:
        stat = key_path.stat()
    except OSError:
        raise SigningError(f"{SIGNING_KEY}: {path}: no such file") from None
    key = _key(key_path, stat.st_mtime_ns, stat.st_size, environ.get(SIGNING_PASSWORD))
    return Sealing(key=key, timestamp_url=tsa_url, handouts=handouts)


@lru_cache(maxsize=4)
def _key(path: Path, mtime_ns: int, size: int, password: str | None) -> SigningKey:
    # Keyed on the file's time and size too: a replaced key file is read again.
    from .keys import SigningKey

    return SigningKey.from_pkcs12(path, password, SIGNING_KEY, SIGNING_PASSWORD)


def trust_roots_from_environment(
    environ: Mapping[str, str] = os.environ,
) -> tuple[x509.Certificate, ...]:
    """The certificates in the files ``DN_DOCS_TRUST_ROOTS`` lists (``os.pathsep`` between)."""
    from .keys import load_trust_roots

    spec = environ.get(TRUST_ROOTS, "").strip()
    paths = [Path(part) for part in spec.split(os.pathsep) if part.strip()]
    return load_trust_roots(paths, TRUST_ROOTS)
