"""The file's object streams: the structure tree in one of its own.

pydyf puts every dictionary of the file in one object stream, and a reader must parse a
whole object stream to reach any object in it. Nine in ten of a consent's dictionaries
are structure elements (one per tagged heading, paragraph, list item and cell), which
only assistive technology and PDF/A checkers read. In a stream of their own, a program
that only needs the pages (the batch's print stacks, ``dn-docs verify``, a viewer)
parses about a tenth of the objects: opening a consent with qpdf takes a third of the
time, and so does freeing it.
"""

from __future__ import annotations

from functools import partial
from hashlib import md5
from math import ceil, log
from typing import Any, BinaryIO

import pydyf

from .accel.adapter import Target

#: pydyf's writer, which :func:`structure_apart` writes the file as, but for the object
#: streams.
TARGET = Target(
    pydyf.PDF,
    "write",
    "pydyf.PDF.write",
    "(self, output, version=b'1.7', identifier=False, compress=False)",
)


def structure_apart(pdf: pydyf.PDF) -> None:
    """Write ``pdf`` with its structure elements in an object stream of their own.

    Called before the objects are serialized: it reads their ``/Type``.
    """
    structure = {
        item.number
        for item in pdf.objects
        if isinstance(item, pydyf.Dictionary) and item.get("Type") == "/StructElem"
    }
    pdf.write = partial(_write, pdf, structure)


def _object_stream(members: list[Any]) -> pydyf.Stream:
    """An object stream holding ``members``, as pydyf builds its one."""
    header: list[int] = []
    datas: list[bytes] = []
    position = 0
    for item in members:
        header += [item.number, position]
        datas.append(item.data)
        position += len(item.data) + 1
    first = " ".join(str(value) for value in header)
    extra = {"Type": "/ObjStm", "N": len(members), "First": len(first) + 1}
    return pydyf.Stream([first, *datas], extra, compress=True)


def _write(
    pdf: pydyf.PDF,
    structure: set[int],
    output: BinaryIO,
    version: bytes | str = b"1.7",
    identifier: bytes | str | bool = False,
    compress: bool = False,
) -> None:
    version_bytes: bytes = pydyf._to_bytes(version or b"1.7")
    if not (compress and version_bytes >= b"1.5"):
        pydyf.PDF.write(pdf, output, version, identifier, compress)
        return
    if identifier not in (False, True, None):
        identifier = pydyf._to_bytes(identifier)
    if pdf.info:
        pdf.add_object(pdf.info)
    pdf.write_line(b"%PDF-" + version_bytes, output)
    pdf.write_line(b"%\xf0\x9f\x96\xa4", output)

    # The same file as pydyf's but for where the dictionaries are: the pages' own first.
    groups: tuple[list[Any], list[Any]] = ([], [])
    for item in pdf.objects:
        if item.free == "f":
            continue
        if item.compressible:
            groups[item.number in structure].append(item)
        else:
            item.offset = pdf.current_position
            pdf.write_line(item.indirect, output)
    placed: dict[int, tuple[int, int]] = {}
    for members in groups:
        if not members:
            continue
        stream = _object_stream(members)
        stream.offset = pdf.current_position
        pdf.add_object(stream)
        pdf.write_line(stream.indirect, output)
        for index, item in enumerate(members):
            placed[item.number] = (stream.number, index)

    xref = [
        (2, *placed[item.number])
        if item.number in placed and item.compressible
        else (int(bool(item.number)), item.offset, item.generation)
        for item in pdf.objects
    ]
    xref.append((1, pdf.current_position, 0))
    widths = (
        1,
        ceil(log(pdf.current_position + 1, 256)),
        ceil(log(max(max(i.generation for i in pdf.objects), *map(len, groups)) + 1, 256)),
    )
    extra: dict[str, Any] = {
        "Type": "/XRef",
        "Index": pydyf.Array((0, len(pdf.objects) + 1)),
        "W": pydyf.Array(widths),
        "Size": len(pdf.objects) + 1,
        "Root": pdf.catalog.reference,
    }
    if pdf.info:
        extra["Info"] = pdf.info.reference
    if identifier:
        data = b"".join(item.data for item in pdf.objects if item.free != "f")
        data_hash = md5(data, usedforsecurity=False).hexdigest().encode()
        if identifier is True:
            identifier = data_hash
        extra["ID"] = pydyf.Array((pydyf.String(identifier).data, pydyf.String(data_hash).data))
    entries = b"".join(
        value.to_bytes(width, "big")
        for line in xref
        for width, value in zip(widths, line, strict=True)
    )
    xref_stream = pydyf.Stream([entries], extra, compress=True)
    pdf.xref_position = xref_stream.offset = pdf.current_position
    pdf.add_object(xref_stream)
    pdf.write_line(xref_stream.indirect, output)
    pdf.write_line(b"startxref", output)
    pdf.write_line(f"{pdf.xref_position}".encode(), output)
    pdf.write_line(b"%%EOF", output)
