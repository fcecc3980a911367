"""Embedding a file into a finished PDF as a PDF/A-3 associated file.

The file is appended as an incremental update, so the rendered bytes are kept as
they are and nothing is laid out or drawn again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from pypdf import PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject, NameObject, TextStringObject


def attach(
    pdf: bytes,
    name: str,
    data: bytes,
    description: str,
    when: dt.datetime,
    media_type: str = "application/json",
) -> bytes:
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    embedded = writer.add_attachment(name, data)
    embedded.description = TextStringObject(description)
    embedded.subtype = NameObject("/" + media_type.replace("/", "#2F"))
    embedded.associated_file_relationship = NameObject("/Data")
    embedded.creation_date = when
    embedded.modification_date = when
    embedded.checksum = ByteStringObject(hashlib.md5(data, usedforsecurity=False).digest())
    filespec = embedded.pdf_object
    filespec[NameObject("/UF")] = TextStringObject(name)
    # PDF/A-3 lists every associated file in the catalog's /AF array.
    catalog = writer.root_object
    associated = catalog.get("/AF")
    if associated is None:
        associated = ArrayObject()
        catalog[NameObject("/AF")] = associated
    associated.append(filespec.indirect_reference)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
