"""What a batch leaves in its output folder: PDFs, manifest.json, errors.csv, merged PDFs."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
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
        # The entries hold plain values only; asdict's deep copy of each one cost more
        # than the rest of the save in a large batch.
        documents = [dict(vars(entry)) for entry in self.ordered()]
        text = json.dumps({"documents": documents}, indent=2, ensure_ascii=False)
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

    Each document is opened as soon as it is finished, while the rest of the batch is
    still rendering, so only the joining and the writing wait for the last document.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sources: dict[str, pikepdf.Pdf] = {}

    def __enter__(self) -> PrintStacks:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for source in self.sources.values():
            source.close()
        self.sources.clear()

    def _open(self, entry: Entry) -> pikepdf.Pdf:
        if entry.file not in self.sources:
            self.sources[entry.file] = pikepdf.open(inside(self.folder, entry.file))
        return self.sources[entry.file]

    def add(self, entry: Entry) -> None:
        """Open a finished document now; one that cannot be read fails in :meth:`write`."""
        if entry.status == "done":
            with contextlib.suppress(pikepdf.PdfError, OSError):
                self._open(entry)

    def write(self, entries: list[Entry]) -> list[Path]:
        """Write ``merged-<kind>.pdf`` for each kind with a finished document."""
        written = []
        for kind in ("consent", "aftercare"):
            finished = [e for e in entries if e.kind == kind and e.status == "done"]
            if not finished:
                continue
            buffer = io.BytesIO()
            with pikepdf.new() as stack:
                for entry in finished:
                    stack.pages.extend(self._open(entry).pages)
                stack.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.generate)
            written.append(
                write_atomic(inside(self.folder, f"merged-{kind}.pdf"), buffer.getvalue())
            )
        return written
