"""Sealing a finished PDF with the clinic's certificate: PAdES B-B, or B-T with a timestamp.

The seal is an incremental update: the rendered bytes stay as they are, and the
signature covers them and the update that carries it. It certifies the document
(DocMDP): a reader that honours it reports any later change other than further
signatures. The timestamp authority receives only a hash of the document.
"""

from __future__ import annotations

import io
from functools import lru_cache

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers import constants
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ..errors import SigningError
from .blocking import run_blocking
from .keys import SigningKey
from .settings import TSA_TIMEOUT, Sealing

#: The name of the seal's signature field.
SEAL_FIELD = "ClinicSeal"


class _MetadataKeptWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the document's Info and XMP metadata alone.

    pyHanko rewrites both when it writes an update, and gives them different
    producers ("WeasyPrint …; pyHanko …" in Info, "pyHanko …" in XMP): PDF/A
    requires the two to agree. Keeping the rendered metadata keeps it PDF/A; the
    signing time is in the signature itself.
    """

    def _update_meta(self) -> None:
        pass


class _Pdf17Signer(signers.PdfSigner):
    """A PAdES signer that keeps the document at PDF 1.7.

    PDF/A-3 is PDF 1.7. pyHanko marks a document signed with an ECDSA key as PDF 2.0
    (the ISO 32002 extension); PAdES in PDF 1.7 needs only the ESIC extension, and
    readers of PDF 1.7 check ECDSA seals as they are.
    """

    def register_extensions(self, pdf_out: BasePdfFileWriter, *, md_algorithm: str) -> None:
        pdf_out.ensure_output_version(version=(1, 7))  # type: ignore[no-untyped-call]
        pdf_out.register_extension(constants.ESIC_EXTENSION_1)


def _asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@lru_cache(maxsize=16)
def _signer(key: SigningKey) -> signers.SimpleSigner:
    private = key.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # untyped upstream
    store.register_multiple([_asn1_certificate(c) for c in key.chain])
    return signers.SimpleSigner(
        signing_cert=_asn1_certificate(key.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(private),
        cert_registry=store,
    )


@lru_cache(maxsize=4)
def _timestamper(url: str) -> HTTPTimeStamper:
    # One client per authority and process: pyHanko sizes the seal from a sample
    # timestamp it asks for once per client, so each later seal costs one request.
    return HTTPTimeStamper(url, timeout=TSA_TIMEOUT)


def seal_pdf(pdf: bytes, sealing: Sealing) -> bytes:
    """``pdf`` with the seal of ``sealing.key`` appended, timestamped when configured."""
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
    )
    timestamper = _timestamper(sealing.timestamp_url) if sealing.timestamp_url else None
    signer = _Pdf17Signer(
        metadata,
        signer=_signer(sealing.key),
        timestamper=timestamper,
        new_field_spec=fields.SigFieldSpec(SEAL_FIELD),
    )
    try:
        writer = _MetadataKeptWriter(io.BytesIO(pdf))
        output = run_blocking(signer.async_sign_pdf(writer, existing_fields_only=False))
    except TimestampRequestError:
        raise SigningError(
            f"the timestamp authority at {sealing.timestamp_url} did not answer with a timestamp"
        ) from None
    except (PyHankoSigningError, PdfError) as exc:
        raise SigningError(f"the document could not be sealed ({exc})") from None
    data: bytes = output.getvalue()
    return data
