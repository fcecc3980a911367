"""A development certificate authority: a CA and the clinic certificate that seals documents.

For the demo, the tests and a developer's machine only. Every subject name and file
name says so, and nothing it makes is trusted anywhere unless its CA file is named in
``DN_DOCS_TRUST_ROOTS``. A clinic in production uses a certificate from a real CA.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import SigningError
from ..storage import ensure_dir, inside, write_atomic

#: Words every development subject name and file name carries.
NOT_FOR_PRODUCTION = "NOT FOR PRODUCTION"
CA_FILE = "dev-ca-NOT-FOR-PRODUCTION.pem"
SIGNING_KEY_FILE = "dev-clinic-seal-NOT-FOR-PRODUCTION.p12"

CA_YEARS = 5
CERTIFICATE_YEARS = 2

#: What a certificate is for: sealing documents, or answering timestamp requests.
Purpose = Literal["seal", "timestamping"]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, f"dn-docs development, {NOT_FOR_PRODUCTION}"
            ),
        ]
    )


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    key: PrivateKey,
    years: int,
    *,
    ca: bool,
    usage: dict[str, bool],
) -> x509.CertificateBuilder:
    """A certificate for ``key`` with the key usages in ``usage`` (the others off)."""
    flags = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), True)
        .add_extension(x509.KeyUsage(**(flags | usage)), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )


@dataclass(frozen=True)
class DevCA:
    """A development CA that can issue certificates for sealing and for timestamping."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, label: str = "") -> DevCA:
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(f"dn-docs development CA{label} ({NOT_FOR_PRODUCTION})")
        usage = {"key_cert_sign": True, "crl_sign": True}
        certificate = _certificate(name, name, key, CA_YEARS, ca=True, usage=usage).sign(
            key, hashes.SHA256()
        )
        return cls(certificate, key)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(
        self, common_name: str, purpose: Purpose = "seal"
    ) -> tuple[x509.Certificate, PrivateKey]:
        """A new key and a certificate for it, issued by this CA.

        A timestamping key is RSA (what most timestamp clients and servers expect) and its
        certificate has the critical timeStamping extended key usage RFC 3161 requires.
        """
        key: PrivateKey = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if purpose == "timestamping"
            else ec.generate_private_key(ec.SECP256R1())
        )
        builder = _certificate(
            _name(f"{common_name} ({NOT_FOR_PRODUCTION})"),
            self.certificate.subject,
            key,
            CERTIFICATE_YEARS,
            ca=False,
            usage={"digital_signature": True, "content_commitment": purpose == "seal"},
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
        )
        if purpose == "timestamping":
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
        return builder.sign(self.key, hashes.SHA256()), key

    def pkcs12(self, common_name: str, password: str, purpose: Purpose = "seal") -> bytes:
        """A PKCS#12 file with a new key, its certificate and this CA's, under ``password``."""
        certificate, key = self.issue(common_name, purpose)
        return pkcs12.serialize_key_and_certificates(
            name=common_name.encode("utf-8"),
            key=key,
            cert=certificate,
            cas=[self.certificate],
            encryption_algorithm=serialization.BestAvailableEncryption(password.encode("utf-8")),
        )


@dataclass(frozen=True)
class DevCredentials:
    """The files ``dn-docs certs dev-ca`` wrote, and the environment that uses them."""

    trust_roots: Path
    signing_key: Path
    password: str

    def environment_lines(self) -> list[str]:
        return [
            f"DN_DOCS_SIGNING_KEY={self.signing_key}",
            f"DN_DOCS_SIGNING_PASSWORD={self.password}",
            f"DN_DOCS_TRUST_ROOTS={self.trust_roots}",
        ]


def write_dev_ca(folder: Path) -> DevCredentials:
    """Write a new development CA and a clinic sealing certificate into ``folder``.

    The PKCS#12 file is protected by a new random passphrase. Files that exist are not
    replaced: documents sealed with them would stop verifying.
    """
    folder = ensure_dir(folder).resolve()
    for name in (CA_FILE, SIGNING_KEY_FILE):
        if (folder / name).exists():
            raise SigningError(f"{folder / name} exists; choose another folder for a new CA")
    password = secrets.token_urlsafe(18)
    ca = DevCA.create()
    signing_key = write_atomic(
        inside(folder, SIGNING_KEY_FILE),
        ca.pkcs12("dn-docs development clinic seal", password),
    )
    trust_roots = write_atomic(inside(folder, CA_FILE), ca.pem)
    return DevCredentials(trust_roots=trust_roots, signing_key=signing_key, password=password)
