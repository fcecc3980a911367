"""Finishing a PDF while WeasyPrint writes it: an embedded file and faster writing.

All of it runs as WeasyPrint's ``finisher``, between drawing the pages and writing
the file, so the PDF is written once: nothing is parsed back or written a second time.

The faster writing (compression at :data:`COMPRESSION_LEVEL`, objects serialized once,
the structure tree's own object stream) is part of every document, accelerated or not,
so a warm render and a plain one give the same bytes. It follows pydyf's internals
(:data:`WRITER_TARGETS`): with another pydyf it is left out and pydyf writes the file
(see :mod:`.accel.startup`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydyf

from . import objectstreams
from .accel.adapter import Target
from .fingerprint import text_fingerprint

# pydyf compresses at zlib's level 9. On the large font files of CJK documents that
# costs twice the time of level 6 for under 1% smaller files. Level 5 takes a quarter
# less time again than 6, for files 0.7% larger (measured on a clinic's week), so
# streams are compressed here at level 5; the bytes they decompress to are unchanged.
COMPRESSION_LEVEL = 5


@dataclass(frozen=True)
class EmbeddedFile:
    """A file carried inside the PDF as a PDF/A-3 associated file."""

    name: str
    data: bytes
    description: str
    created: dt.datetime
    media_type: str = "application/json"
    relationship: str = "Data"


#: Given the fingerprint of the text drawn on each page, the file to embed.
Sealer = Callable[[list[str]], EmbeddedFile]
#: ``compress(data, level)``, or the same bytes made earlier (see :mod:`.accel.subsets`).
Compressor = Callable[[bytes, int, Callable[[bytes, int], bytes]], bytes]

#: What the faster writing calls or stands in for of pydyf's, per document.
WRITER_TARGETS = (
    objectstreams.TARGET,
    Target(pydyf.PDF, "add_object", "pydyf.PDF.add_object", "(self, object_)"),
    Target(pydyf, "_to_bytes", "pydyf._to_bytes", "(item)"),
)


def _compress_now(data: bytes, level: int, compress: Callable[[bytes, int], bytes]) -> bytes:
    return compress(data, level)


def finisher(
    seal: Sealer | None,
    compress: bool,
    faster: bool = True,
    compressed: Compressor = _compress_now,
) -> Callable[[Any, pydyf.PDF], None]:
    """The finisher for one document; ``faster`` for the faster writing."""

    def finish(document: Any, pdf: pydyf.PDF) -> None:
        if seal is not None:
            _embed(pdf, seal(page_fingerprints(pdf)), compress)
        if not faster:
            return
        if compress:
            _precompress(pdf, compressed)
            _compress_streams_added_while_writing(pdf)
            objectstreams.structure_apart(pdf)
        _serialize_once(pdf)

    return finish


def page_fingerprints(pdf: pydyf.PDF) -> list[str]:
    """The text fingerprint of each page, from its content stream before compression."""
    fingerprints = []
    for page in pdf.page_references:
        contents = _object(pdf, _object(pdf, page)["Contents"])
        # The same bytes as one item, so compressing does not join them again.
        contents.stream = [_stream_bytes(contents)]
        fingerprints.append(text_fingerprint(contents.stream[0]))
    return fingerprints


def _object(pdf: pydyf.PDF, reference: Any) -> Any:
    # pydyf refers to objects as "<number> 0 R" byte strings.
    return pdf.objects[int(reference.split()[0])]


def _stream_bytes(stream: pydyf.Stream) -> bytes:
    return b"\n".join(pydyf._to_bytes(item) for item in stream.stream)


def _embed(pdf: pydyf.PDF, file: EmbeddedFile, compress: bool) -> None:
    stamp = pydyf.String(file.created.strftime("D:%Y%m%d%H%M%SZ"))
    stream = pydyf.Stream(
        [file.data],
        pydyf.Dictionary(
            {
                "Type": "/EmbeddedFile",
                "Subtype": "/" + file.media_type.replace("/", "#2F"),
                "Params": pydyf.Dictionary(
                    {
                        "CheckSum": "<"
                        + hashlib.md5(file.data, usedforsecurity=False).hexdigest()
                        + ">",
                        "Size": len(file.data),
                        "CreationDate": stamp,
                        "ModDate": stamp,
                    }
                ),
            }
        ),
        compress=compress,
    )
    pdf.add_object(stream)
    filespec = pydyf.Dictionary(
        {
            "Type": "/Filespec",
            "F": pydyf.String(file.name),
            "UF": pydyf.String(file.name),
            "EF": pydyf.Dictionary({"F": stream.reference, "UF": stream.reference}),
            "Desc": pydyf.String(file.description),
            "AFRelationship": "/" + file.relationship,
        }
    )
    pdf.add_object(filespec)
    if "Names" in pdf.catalog and "EmbeddedFiles" in pdf.catalog["Names"]:
        raise ValueError("the document already embeds files")
    names = pydyf.Dictionary({"Names": pydyf.Array([pydyf.String(file.name), filespec.reference])})
    pdf.add_object(names)
    pdf.catalog.setdefault("Names", pydyf.Dictionary())["EmbeddedFiles"] = names.reference
    # PDF/A-3 lists every associated file in the catalog's /AF array.
    pdf.catalog.setdefault("AF", pydyf.Array()).append(filespec.reference)


def _precompress(pdf: pydyf.PDF, compressed: Compressor) -> None:
    for item in pdf.objects:
        if isinstance(item, pydyf.Stream) and item.compress:
            _compress(item, compressed)


def _compress(stream: pydyf.Stream, compressed: Compressor = _compress_now) -> None:
    stream.stream = [compressed(_stream_bytes(stream), COMPRESSION_LEVEL, zlib.compress)]
    stream.extra["Filter"] = "/FlateDecode"
    stream.compress = False


class _Serialized(pydyf.Object):  # type: ignore[misc]  # pydyf has no type hints
    """An object of the PDF whose bytes are made already.

    With an identifier, pydyf makes every object's bytes twice: once to write it, once
    more for the hash in the trailer's /ID. The finisher makes them once.
    """

    def __init__(self, original: pydyf.Object) -> None:
        super().__init__()
        self.number = original.number
        self.generation = original.generation
        self.free = original.free
        self._data: bytes = original.data
        self._compressible: bool = original.compressible

    @property
    def data(self) -> bytes:
        return self._data

    @property
    def compressible(self) -> bool:
        return self._compressible


def _compress_streams_added_while_writing(pdf: pydyf.PDF) -> None:
    """Compress the streams pydyf builds as it writes, once, at :data:`COMPRESSION_LEVEL`.

    They are the object stream (every dictionary of the file, some 28 KiB) and the
    cross-reference stream. pydyf compressed the object stream at level 9 twice, to
    write it and again for the /ID hash: about 3% of a warm render.
    """
    add_object = pdf.add_object

    def add_compressed(item: pydyf.Object) -> None:
        if isinstance(item, pydyf.Stream) and item.compress:
            _compress(item)
        add_object(item)

    pdf.add_object = add_compressed


def _serialize_once(pdf: pydyf.PDF) -> None:
    # Nothing changes an object after the finisher; pydyf refers to objects by number.
    pdf.objects[1:] = [item if item.free == "f" else _Serialized(item) for item in pdf.objects[1:]]
