"""Key material: the clinic's sealing key (PKCS#12), and the trust roots seals are checked with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from ..errors import SigningError

#: The largest PKCS#12 or PEM file read: real ones are a few KiB.
MAX_KEY_FILE_BYTES = 256 * 1024


def read_key_file(path: Path, field: str) -> bytes:
    """The bytes of a key or certificate file, or a one-line error naming ``field``."""
    try:
        if path.stat().st_size > MAX_KEY_FILE_BYTES:
            raise SigningError(f"{field}: {path} is larger than {MAX_KEY_FILE_BYTES // 1024} KiB")
        return path.read_bytes()
    except FileNotFoundError:
        raise SigningError(f"{field}: {path}: no such file") from None
    except OSError as exc:
        raise SigningError(f"{field}: {path}: {exc.strerror}") from None


@dataclass(frozen=True)
class SigningKey:
    """A sealing key with its certificate and the CA certificates that came with it."""

    private_key: PrivateKeyTypes
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_pkcs12(
        cls,
        source: bytes | Path,
        password: str | bytes | None,
        field: str = "signing_key",
        password_field: str = "signing_password",  # noqa: S107 - a field name
    ) -> SigningKey:
        """Load the key and certificates of a PKCS#12 file (its bytes, or its path).

        ``field`` and ``password_field`` name where they came from (an environment
        variable, a setting) in the one-line error raised when they are wrong.
        """
        data = read_key_file(source, field) if isinstance(source, Path) else source
        secret = password.encode("utf-8") if isinstance(password, str) else password
        try:
            key, certificate, chain = pkcs12.load_key_and_certificates(data, secret or None)
        except ValueError:
            raise SigningError(
                f"{password_field}: wrong passphrase for {field}, or {field} is not a PKCS#12 file"
            ) from None
        except TypeError:  # encrypted, and no passphrase given
            raise SigningError(f"{password_field}: {field} needs a passphrase") from None
        if key is None or certificate is None:
            raise SigningError(f"{field}: the PKCS#12 file holds no key with its certificate")
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            # Other kinds (Ed25519, …) need PDF 2.0; PDF/A-3 documents are PDF 1.7.
            raise SigningError(f"{field}: the key must be RSA or ECDSA")
        if certificate.not_valid_after_utc < dt.datetime.now(dt.UTC):
            raise SigningError(
                f"{field}: the certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d}"
            )
        return cls(private_key=key, certificate=certificate, chain=tuple(chain))

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()


def load_trust_roots(
    paths: Sequence[Path], field: str = "trust_roots"
) -> tuple[x509.Certificate, ...]:
    """The certificates in PEM files (each may hold several) or DER files."""
    roots: list[x509.Certificate] = []
    for path in paths:
        data = read_key_file(path, field)
        try:
            if b"-----BEGIN" in data:
                roots.extend(x509.load_pem_x509_certificates(data))
            else:
                roots.append(x509.load_der_x509_certificate(data))
        except ValueError:
            raise SigningError(f"{field}: {path} holds no certificate") from None
    return tuple(roots)
