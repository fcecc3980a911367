"""Sealing documents with the clinic's certificate (PAdES), verifying them, and signatures
captured on a tablet.

================================  ===========================================================
:func:`seal_pdf`                  seal a finished PDF (``seal.py``)
:func:`verify_document`           check the seal, later changes and the text (``verification.py``)
:func:`sign_consent`              place tablet signatures in a consent, then seal (``ceremony.py``)
:class:`SignatureCapture`         one signer's capture (``captures.py``)
:class:`Sealing`                  key, timestamp authority, handouts (``settings.py``)
:class:`SigningKey`               a clinic's PKCS#12 key and certificate (``keys.py``)
:class:`DevCA`                    the development CA (``devca.py``)
================================  ===========================================================

pyHanko takes most of a second to import, so the modules that use it load when one
of their names is first used: a render without a seal never pays for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .captures import Role, SignatureCapture, parse_captures
from .settings import Sealing, sealing_from_environment, trust_roots_from_environment

if TYPE_CHECKING:
    from .ceremony import sign_consent
    from .devca import DevCA, DevCredentials, write_dev_ca
    from .keys import SigningKey, load_trust_roots
    from .seal import seal_pdf
    from .verification import DocumentVerification, SealCheck, Status, Timestamp, verify_document

_LAZY = {
    "sign_consent": "ceremony",
    "DevCA": "devca",
    "DevCredentials": "devca",
    "write_dev_ca": "devca",
    "SigningKey": "keys",
    "load_trust_roots": "keys",
    "seal_pdf": "seal",
    "DocumentVerification": "verification",
    "SealCheck": "verification",
    "Status": "verification",
    "Timestamp": "verification",
    "verify_document": "verification",
}

__all__ = [
    "DevCA",
    "DevCredentials",
    "DocumentVerification",
    "Role",
    "SealCheck",
    "Sealing",
    "SignatureCapture",
    "SigningKey",
    "Status",
    "Timestamp",
    "load_trust_roots",
    "parse_captures",
    "seal_pdf",
    "sealing_from_environment",
    "sign_consent",
    "trust_roots_from_environment",
    "verify_document",
    "write_dev_ca",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
