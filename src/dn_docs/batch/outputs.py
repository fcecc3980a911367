"""What a batch leaves in its output folder: PDFs, manifest.json, errors.csv, merged PDFs."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass
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
        documents = [asdict(entry) for entry in self.ordered()]
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


def merge(folder: Path, entries: list[Entry], kind: str) -> Path | None:
    """One print-ready PDF of every finished document of ``kind``, in row order."""
    files = [e.file for e in entries if e.kind == kind and e.status == "done"]
    if not files:
        return None
    buffer = io.BytesIO()
    with pikepdf.new() as stack:
        sources = [pikepdf.open(inside(folder, name)) for name in files]
        try:
            for source in sources:
                stack.pages.extend(source.pages)
            stack.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        finally:
            for source in sources:
                source.close()
    return write_atomic(inside(folder, f"merged-{kind}.pdf"), buffer.getvalue())
