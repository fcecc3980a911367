"""What a batch leaves in its output folder: PDFs, manifest.json, errors.csv, print stacks."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf

from ..errors import DnDocsError, StorageError
from ..record import read_record
from ..storage import inside, write_atomic
from .inputs import Job, request_sha256
from .sheet import RowError

MANIFEST = "manifest.json"
ERRORS = "errors.csv"
PACKETS = "packets.pdf"
#: After --resume: a packet stack of the documents that run rendered.
RESUMED_PACKETS = "packets-resumed.pdf"
KINDS = ("consent", "aftercare")
#: The name of every document a batch writes: row number, kind, locale.
DOCUMENT = re.compile(r"(\d{5})-(consent|aftercare)-([A-Za-z_]+)\.pdf")
STATUSES = ("pending", "done", "failed")


class DamagedManifestError(StorageError):
    """manifest.json cannot be read as a batch's manifest."""


@dataclass
class Entry:
    row: int
    kind: str
    locale: str
    file: str
    input_sha256: str
    status: str = "pending"
    sha256: str | None = None
    pages: int | None = None
    bytes: int | None = None
    error: str | None = None


class Manifest:
    """One entry per job, keyed by file name; rewritten atomically as jobs finish."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = inside(folder, MANIFEST)
        self.entries: dict[str, Entry] = {}

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        """The folder's manifest (empty if there is none); DamagedManifestError if it
        cannot be read as one."""
        manifest = cls(folder)
        if not manifest.path.is_file():
            return manifest
        try:
            data = json.loads(manifest.path.read_bytes())
            for row in data["documents"]:
                entry = Entry(**row)
                if not (
                    DOCUMENT.fullmatch(entry.file)
                    and isinstance(entry.row, int)
                    and entry.status in STATUSES
                ):
                    raise ValueError(entry.file)
                manifest.entries[entry.file] = entry
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            raise DamagedManifestError(
                f"{manifest.path} is damaged (not a dn-docs manifest); `dn-docs batch "
                "--resume` rebuilds it from the consents' own records"
            ) from None
        return manifest

    @classmethod
    def rebuild(cls, folder: Path) -> Manifest:
        """A manifest of the consents in ``folder``, from the record each one embeds.

        A handout carries no record of its request, so it cannot be told unchanged: it
        is left out and rendered again.
        """
        manifest = cls(folder)
        for path in sorted(folder.iterdir()):
            match = DOCUMENT.fullmatch(path.name)
            if not match or match.group(2) != "consent" or not path.is_file():
                continue
            data = path.read_bytes()
            try:
                record = read_record(data)
                with pikepdf.open(io.BytesIO(data)) as pdf:
                    pages = len(pdf.pages)
            except (DnDocsError, pikepdf.PdfError, ValueError, KeyError):
                continue
            entry = Entry(
                int(match.group(1)),
                "consent",
                match.group(3),
                path.name,
                request_sha256(record.get("request") or {}),
                status="done",
                sha256=hashlib.sha256(data).hexdigest(),
                pages=pages,
                bytes=len(data),
            )
            manifest.entries[entry.file] = entry
        return manifest

    def is_done(self, job: Job) -> bool:
        """Done before, with the same input, and the file on disk still has its hash."""
        entry = self.entries.get(job.file_name)
        if entry is None or entry.status != "done" or entry.input_sha256 != job.input_sha256:
            return False
        path = inside(self.folder, job.file_name)

        return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256

    def track(self, job: Job) -> Entry:
        entry = Entry(job.row, job.kind, job.locale, job.file_name, job.input_sha256)
        self.entries[job.file_name] = entry
        return entry

    def record(self, file: str, result: dict[str, Any]) -> Entry:
        entry = self.entries[file]
        status = str(result.get("status", "failed"))
        entry.status = status if status in STATUSES else "failed"
        entry.error = result.get("error")
        for key in ("sha256", "pages", "bytes"):
            setattr(entry, key, result.get(key))
        return entry

    def ordered(self) -> list[Entry]:
        return sorted(self.entries.values(), key=lambda e: (e.row, e.kind != "consent", e.file))

    def save(self) -> None:
        # One document to a line. json.dumps with indent runs Python's own encoder, a
        # tenth of the speed of the C one that encodes each line here; a large batch
        # saves its whole manifest every second.
        lines = ",\n    ".join(
            json.dumps(vars(entry), ensure_ascii=False) for entry in self.ordered()
        )
        text = f'{{\n  "documents": [\n    {lines}\n  ]\n}}\n' if lines else '{"documents": []}\n'
        write_atomic(self.path, text.encode("utf-8"))


def _cell(value: object) -> str:
    # A spreadsheet must not run a cell as a formula (CSV injection).
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


#: The columns of errors.csv: where (row as a spreadsheet numbers it, the document's
#: kind, the column as the file names it, the request field), what kind of value was
#: there (never the value) and why it was refused or failed.
ERROR_COLUMNS = ["row", "kind", "column", "field", "value", "reason"]


def write_errors(folder: Path, errors: list[RowError], failed: list[Entry]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ERROR_COLUMNS)
    rows: list[tuple[int, list[str]]] = [
        (e.row, ["", e.column, e.field, e.value, e.reason]) for e in errors
    ] + [(e.row, [e.kind, "", "render", "", e.error or "failed"]) for e in failed]
    for row, cells in sorted(rows, key=lambda r: r[0]):
        writer.writerow([row, *(_cell(value) for value in cells)])
    return write_atomic(inside(folder, ERRORS), buffer.getvalue().encode("utf-8"))


@dataclass
class Stack:
    """One print-ready PDF: ``order``'s finished documents, one after the other.

    With ``pad``, a document with an odd number of pages is followed by a blank one,
    so on a duplex printer every document starts on a new sheet.
    """

    name: str
    order: list[Entry]
    pad: bool = False
    joined: int = 0
    pdf: pikepdf.Pdf | None = field(default=None, repr=False)


def packet_order(entries: list[Entry], times: dict[str, str | None]) -> list[Entry]:
    """Each patient's consent then handout, in appointment order (``times`` by file name;
    rows without a time after the rest), then row order."""

    def key(entry: Entry) -> tuple[bool, str, int, bool]:
        time = times.get(entry.file)
        return time is None, time or "", entry.row, entry.kind != "consent"

    return sorted(entries, key=key)


class PrintStacks:
    """Print stacks joined as a batch runs.

    A document is joined onto a stack as soon as it and every document before it in
    that stack's order are finished, while the rest of the batch is still rendering,
    so only the last few documents and the writing wait for the end of the batch.
    """

    def __init__(self, folder: Path, stacks: list[Stack]) -> None:
        self.folder = folder
        self.stacks = stacks
        # qpdf copies a page's streams from its source file when a stack is saved.
        self.sources: dict[str, pikepdf.Pdf] = {}

    @staticmethod
    def by_kind(order: list[Entry]) -> list[Stack]:
        """``merged-<kind>.pdf``: one stack per kind, in row order."""
        return [Stack(f"merged-{kind}.pdf", [e for e in order if e.kind == kind]) for kind in KINDS]

    def __enter__(self) -> PrintStacks:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for pdf in [*self.sources.values(), *(s.pdf for s in self.stacks if s.pdf)]:
            pdf.close()
        self.sources.clear()
        for stack in self.stacks:
            stack.pdf = None

    def _source(self, entry: Entry) -> pikepdf.Pdf:
        if entry.file not in self.sources:
            self.sources[entry.file] = pikepdf.open(inside(self.folder, entry.file))
        return self.sources[entry.file]

    def _join(self, stack: Stack, until_pending: bool) -> None:
        """Join the finished documents that are next in ``stack``'s order."""
        while stack.joined < len(stack.order):
            entry = stack.order[stack.joined]
            if entry.status == "pending" and until_pending:
                return
            if entry.status == "done":
                source = self._source(entry)
                if stack.pdf is None:
                    stack.pdf = pikepdf.new()
                _append_unsealed(stack.pdf, source)
                if stack.pad and len(source.pages) % 2:
                    box = source.pages[-1].mediabox
                    stack.pdf.add_blank_page(page_size=(float(box[2]), float(box[3])))
            stack.joined += 1

    def add(self, entry: Entry) -> None:
        """Join what a finished document lets through; one that cannot be read fails in
        :meth:`write`."""
        for stack in self.stacks:
            with contextlib.suppress(pikepdf.PdfError, OSError):
                self._join(stack, until_pending=True)

    def write(self) -> list[Path]:
        """Write each stack that has a finished document."""
        written = []
        for stack in self.stacks:
            self._join(stack, until_pending=False)
            if stack.pdf is None:
                continue
            buffer = io.BytesIO()
            stack.pdf.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.generate)
            written.append(write_atomic(inside(self.folder, stack.name), buffer.getvalue()))
        return written


def _append_unsealed(stack: pikepdf.Pdf, source: pikepdf.Pdf) -> None:
    """Append ``source``'s pages to a print stack, without the seal of a sealed document.

    The seal is a signature field over the bytes of its own file: copied into the stack
    it would only show as a broken signature. The sealed file itself is the record.
    """
    first = len(stack.pages)
    with warnings.catch_warnings():
        # pikepdf warns that copied pages lose their form fields: here, that is the aim.
        warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
        stack.pages.extend(source.pages)
    for page in stack.pages[first:]:
        if "/Annots" in page:
            kept = [a for a in page.Annots if a.get("/FT") != "/Sig"]
            if kept:
                page.Annots = pikepdf.Array(kept)
            else:
                del page.Annots
