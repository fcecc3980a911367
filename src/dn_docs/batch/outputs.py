"""What a batch leaves in its output folder: PDFs, manifest.json, errors.csv, merged PDFs."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf

from ..storage import inside, write_atomic
from .inputs import Job, RowError

MANIFEST = "manifest.json"
ERRORS = "errors.csv"


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
        manifest = cls(folder)
        if manifest.path.is_file():
            data = json.loads(manifest.path.read_text(encoding="utf-8"))
            for row in data.get("documents", []):
                entry = Entry(**row)
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
        entry.status = str(result.get("status", "failed"))
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


def write_errors(folder: Path, errors: list[RowError], failed: list[Entry]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "kind", "field", "reason"])
    for error in sorted(errors, key=lambda e: e.row):
        writer.writerow([error.row, "", _cell(error.field), _cell(error.reason)])
    for entry in failed:
        writer.writerow([entry.row, entry.kind, "render", _cell(entry.error or "failed")])
    return write_atomic(inside(folder, ERRORS), buffer.getvalue().encode("utf-8"))


class PrintStacks:
    """One print-ready PDF per kind of every finished document, in row order.

    ``order`` is every entry of the batch in row order. A document is joined onto its
    stack as soon as it and every document before it of its kind are finished, while
    the rest of the batch is still rendering, so only the last few documents and the
    writing wait for the end of the batch.
    """

    KINDS = ("consent", "aftercare")

    def __init__(self, folder: Path, order: list[Entry]) -> None:
        self.folder = folder
        self.queues: dict[str, list[Entry]] = {
            kind: [e for e in order if e.kind == kind] for kind in self.KINDS
        }
        self.joined: dict[str, int] = dict.fromkeys(self.KINDS, 0)
        self.stacks: dict[str, pikepdf.Pdf] = {}
        # qpdf copies a page's streams from its source file when the stack is saved.
        self.sources: list[pikepdf.Pdf] = []

    def __enter__(self) -> PrintStacks:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for pdf in [*self.sources, *self.stacks.values()]:
            pdf.close()
        self.sources.clear()
        self.stacks.clear()

    def _join(self, kind: str, until_pending: bool) -> None:
        """Join the finished documents of ``kind`` that are next in row order."""
        queue = self.queues[kind]
        while self.joined[kind] < len(queue):
            entry = queue[self.joined[kind]]
            if entry.status == "pending" and until_pending:
                return
            if entry.status == "done":
                source = pikepdf.open(inside(self.folder, entry.file))
                self.sources.append(source)
                if kind not in self.stacks:
                    self.stacks[kind] = pikepdf.new()
                _append_unsealed(self.stacks[kind], source)
            self.joined[kind] += 1

    def add(self, entry: Entry) -> None:
        """Join what a finished document lets through; one that cannot be read fails in
        :meth:`write`."""
        with contextlib.suppress(pikepdf.PdfError, OSError):
            self._join(entry.kind, until_pending=True)

    def write(self) -> list[Path]:
        """Write ``merged-<kind>.pdf`` for each kind with a finished document."""
        written = []
        for kind in self.KINDS:
            self._join(kind, until_pending=False)
            if kind not in self.stacks:
                continue
            buffer = io.BytesIO()
            self.stacks[kind].save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.generate)
            written.append(
                write_atomic(inside(self.folder, f"merged-{kind}.pdf"), buffer.getvalue())
            )
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
