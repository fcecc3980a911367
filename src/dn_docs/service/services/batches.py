"""Batches through the API: an upload in, one document per row and kind, outputs out.

The upload (CSV, XLSX or JSON Lines) is stored sealed. A render process then reads
its rows with the batch library (:func:`dn_docs.batch.inputs.plan`) into documents,
which go through the same render path as single documents; when the last one is
finished, a render process makes the outputs with :mod:`dn_docs.batch.outputs`
(manifest, errors.csv, the print stacks) plus ``packets.pdf`` (each row's documents
together, in row order), stored sealed.

This module is the only one that knows the batch library: point it at a reworked one
here.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ...batch.inputs import Job, Plan, merge_defaults, plan
from ...batch.outputs import (
    ERRORS,
    MANIFEST,
    PACKETS,
    Manifest,
    PrintStacks,
    Stack,
    packet_order,
    write_errors,
)
from ...batch.sheet import RowError
from ...errors import (
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    RequestError,
    UnsupportedMediaTypeError,
)
from ...limits import MAX_INPUT_BYTES
from ...request import DocumentRequest
from ...storage import DIR_MODE, inside, write_atomic
from ..models import (
    Batch,
    BatchFile,
    BatchStatus,
    Clinic,
    Document,
    DocumentStatus,
    Role,
    utcnow,
)
from ..security import cipher
from . import audit, clinics, documents
from .access import Caller, owned

#: The files a finished batch offers, with their media types.
FILES = {
    MANIFEST: "application/json",
    ERRORS: "text/csv",
    "merged-consent.pdf": "application/pdf",
    "merged-aftercare.pdf": "application/pdf",
    PACKETS: "application/pdf",
}
#: Upload media types → format; a client that cannot name the type may send
#: application/octet-stream with the file's extension.
FORMATS = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/jsonl": "jsonl",
    "application/x-ndjson": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}


def _input_context(batch_id: str) -> str:
    return f"batch/{batch_id}/input"


def _defaults_context(batch_id: str) -> str:
    return f"batch/{batch_id}/defaults"


def _file_context(batch_id: str, name: str) -> str:
    return f"batch/{batch_id}/{name}"


def input_format(media_type: str, filename: str | None, data: bytes) -> str:
    """``csv``, ``xlsx`` or ``jsonl``; 415 for anything else."""
    kind = FORMATS.get(media_type.split(";")[0].strip().lower())
    if kind is None and filename:
        kind = EXTENSIONS.get(Path(filename).suffix.lower())
    if kind is None:
        raise UnsupportedMediaTypeError("a batch is a CSV, XLSX or JSON Lines file")
    if kind == "xlsx" and not data.startswith(b"PK\x03\x04"):
        raise UnsupportedMediaTypeError("the file is not an XLSX workbook")
    return kind


def create_batch(
    db: Session,
    caller: Caller,
    data: bytes,
    media_type: str,
    filename: str | None,
    defaults: dict[str, Any] | None,
    staged: bool = False,
) -> Batch:
    """Store an upload sealed, as a queued batch; its rows are read by a render process.

    ``staged``: kept until :func:`start_staged` (the web app shows its rows first)."""
    if len(data) > MAX_INPUT_BYTES:
        raise PayloadTooLargeError(f"a batch file may be at most {MAX_INPUT_BYTES // 2**20} MiB")
    kind = input_format(media_type, filename, data)
    if defaults is not None:
        given = defaults.get("clinic")
        if isinstance(given, dict) and "logo" in given:
            raise RequestError(
                [("defaults.clinic.logo", "is set once for the clinic: PUT /v1/clinic/logo")]
            )
    batch = Batch(
        clinic_id=caller.clinic_id,
        input_format=kind,
        created_by=caller.actor,
        status=BatchStatus.STAGED if staged else BatchStatus.QUEUED,
    )
    db.add(batch)
    db.flush()
    batch.input_sealed = cipher().seal(data, _input_context(batch.id))
    batch.defaults_sealed = cipher().seal(
        json.dumps(defaults or {}).encode("utf-8"), _defaults_context(batch.id)
    )
    audit.record(db, caller.clinic_id, caller.actor, "batch.create", batch.id)
    return batch


def get_batch(db: Session, caller: Caller, batch_id: str) -> Batch:
    return owned(db, Batch, batch_id, caller, "batch")


def recent_batches(db: Session, caller: Caller, limit: int = 50) -> list[Batch]:
    """The clinic's newest batches first."""
    query = (
        select(Batch)
        .where(Batch.clinic_id == caller.clinic_id)
        .order_by(Batch.created_at.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def preview_staged(db: Session, caller: Caller, batch_id: str) -> Plan:
    """A staged batch's rows as the render process will read them: its jobs and refusals.

    The same reading as :func:`plan_stored` (the batch library's ``plan``), so what the
    preview flags is exactly what the batch refuses."""
    batch = get_batch(db, caller, batch_id)
    if batch.status != BatchStatus.STAGED or batch.input_sealed is None:
        raise ConflictError(f"batch {batch_id} is not waiting to start")
    clinic = clinics.get_clinic(db, batch.clinic_id)
    try:
        return _read(batch, clinic)
    except RequestError as exc:  # the file as a whole: not a workbook, no header row
        return Plan(errors=[RowError(0, field, reason) for field, reason in exc.errors])


def start_staged(db: Session, caller: Caller, batch_id: str) -> Batch:
    """Queue a staged batch (the caller then hands it to the render processes)."""
    batch = get_batch(db, caller, batch_id)
    if batch.status != BatchStatus.STAGED:
        raise ConflictError(f"batch {batch_id} has already been started or cancelled")
    batch.status = BatchStatus.QUEUED
    audit.record(db, caller.clinic_id, caller.actor, "batch.start", batch.id)
    return batch


@dataclass
class Progress:
    """A batch's documents by status."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def finished(self) -> int:
        return sum(self.counts.get(s, 0) for s in ("done", "failed", "cancelled"))


def progress(db: Session, batch: Batch) -> Progress:
    rows = db.execute(
        select(Document.status, func.count())
        .where(Document.batch_id == batch.id)
        .group_by(Document.status)
    ).all()
    counts = dict.fromkeys(DocumentStatus, 0) | {status: count for status, count in rows}
    return Progress({str(k): v for k, v in counts.items()})


def batch_documents(db: Session, caller: Caller, batch_id: str) -> list[Document]:
    batch = get_batch(db, caller, batch_id)
    query = (
        select(Document).where(Document.batch_id == batch.id).order_by(Document.row, Document.kind)
    )
    return list(db.scalars(query))


def available_files(db: Session, batch: Batch) -> list[BatchFile]:
    query = select(BatchFile).where(BatchFile.batch_id == batch.id).order_by(BatchFile.name)
    return list(db.scalars(query))


def batch_file(db: Session, caller: Caller, batch_id: str, name: str) -> tuple[bytes, str]:
    """A finished batch's output file and its media type."""
    batch = get_batch(db, caller, batch_id)
    stored = db.get(BatchFile, (batch.id, name)) if name in FILES else None
    if stored is None:
        raise NotFoundError(f"batch {batch_id} has no file {name} (yet)")
    audit.record(db, caller.clinic_id, caller.actor, "batch.download", batch.id)
    return cipher().open(stored.content_sealed, _file_context(batch.id, name)), stored.media_type


def cancel_batch(db: Session, caller: Caller, batch_id: str) -> tuple[Batch, bool]:
    """Cancel the documents that have not started; returns the batch and whether its
    outputs are now to be made (nothing is rendering any more)."""
    batch = get_batch(db, caller, batch_id)
    if batch.status not in (BatchStatus.STAGED, BatchStatus.QUEUED, BatchStatus.RUNNING):
        return batch, False
    db.execute(
        update(Document)
        .where(Document.batch_id == batch.id, Document.status == DocumentStatus.QUEUED)
        .values(status=DocumentStatus.CANCELLED, finished_at=utcnow())
    )
    batch.status = BatchStatus.CANCELLED
    audit.record(db, caller.clinic_id, caller.actor, "batch.cancel", batch.id)
    if batch.input_sealed is not None:  # its rows were not read yet: nothing to make
        batch.input_sealed, batch.finished_at = None, utcnow()
        return batch, False
    rendering = db.scalar(
        select(func.count())
        .select_from(Document)
        .where(Document.batch_id == batch.id, Document.status == DocumentStatus.RENDERING)
    )
    finish = not rendering and not batch.finishing
    if finish:
        batch.finishing = True
    return batch, finish


@contextmanager
def _private_folder() -> Iterator[Path]:
    """A folder for the library's file-based steps, in memory where the system has it,
    removed at once."""
    shm = Path("/dev/shm")  # noqa: S108  # a private folder made inside it, mode 0700
    with tempfile.TemporaryDirectory(prefix="dn-docs-", dir=shm if shm.is_dir() else None) as name:
        folder = Path(name)
        folder.chmod(DIR_MODE)
        yield folder


def _read(batch: Batch, clinic: Clinic) -> Plan:
    assert batch.input_sealed is not None and batch.defaults_sealed is not None
    data = cipher().open(batch.input_sealed, _input_context(batch.id))
    given = json.loads(cipher().open(batch.defaults_sealed, _defaults_context(batch.id)))
    defaults = merge_defaults(clinics.request_defaults(clinic), given)
    if logo := clinics.logo_file_name(clinic):
        defaults["clinic"] = {**defaults.get("clinic", {}), "logo": logo}
    with _private_folder() as folder:
        path = write_atomic(inside(folder, f"input.{batch.input_format}"), data)
        return plan(path, defaults)


def plan_stored(batch_id: str) -> tuple[list[str], bool]:
    """Read a stored batch's rows into documents (in a render process); returns the
    documents to render and whether the outputs are to be made now (no documents)."""
    from .. import db

    with db.session() as session:
        batch = session.get(Batch, batch_id)
        if batch is None or batch.status != BatchStatus.QUEUED:
            return [], False
        clinic = session.get(Clinic, batch.clinic_id)
        assert clinic is not None
        try:
            planned = _read(batch, clinic)
            jobs, errors = planned.jobs, planned.errors
        except RequestError as exc:  # the file as a whole: not a workbook, no header row
            jobs, errors = [], [RowError(0, field, reason) for field, reason in exc.errors]
        creator = Caller(batch.clinic_id, batch.created_by, Role.FRONT_DESK)
        ids = []
        for job in jobs:
            request = DocumentRequest.model_validate(job.request)
            document = documents.create_document(session, creator, request, batch.id, job.row)
            ids.append(document.id)
        batch.row_errors = [asdict(error) for error in errors]  # kinds of values, no patient data
        batch.invalid_rows = len({e.row for e in errors})
        batch.input_sealed = None  # the rows now live in their documents
        batch.status = BatchStatus.RUNNING
        if not ids:
            batch.finishing = True
        return ids, not ids


def finish_stored(batch_id: str) -> None:
    """Make a batch's outputs from its finished documents (in a render process)."""
    from .. import db

    with db.session() as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            return
        rows = session.scalars(
            select(Document).where(Document.batch_id == batch_id).order_by(Document.row)
        ).all()
        errors = [RowError(**e) for e in batch.row_errors]
        files: dict[str, bytes] = {}
        with _private_folder() as folder:
            manifest = Manifest(folder)
            times = dict(_track(manifest, document) for document in rows)
            manifest.save()
            entries = manifest.ordered()
            write_errors(folder, errors, [e for e in entries if e.status != "done"])
            # The same stacks as ``dn-docs batch``: one per kind, and each patient's
            # documents together in appointment order, every document on a new sheet.
            stacks = [
                *PrintStacks.by_kind(entries),
                Stack(PACKETS, packet_order(entries, times), pad=True),
            ]
            with PrintStacks(folder, stacks) as joined:
                joined.write()
            for name in FILES:
                path = folder / name
                if path.is_file():
                    files[name] = path.read_bytes()
        session.execute(delete(BatchFile).where(BatchFile.batch_id == batch_id))
        for name, content in files.items():
            session.add(
                BatchFile(
                    batch_id=batch_id,
                    name=name,
                    media_type=FILES[name],
                    content_sealed=cipher().seal(content, _file_context(batch_id, name)),
                    bytes=len(content),
                )
            )
        done = sum(1 for d in rows if d.status == DocumentStatus.DONE)
        if batch.status != BatchStatus.CANCELLED:
            batch.status = BatchStatus.DONE if done or not rows else BatchStatus.FAILED
            if not done and rows:
                batch.error = "no document of the batch could be rendered"
        batch.finished_at = utcnow()
        audit.record(session, batch.clinic_id, "system", "batch.finish", batch_id)


def _track(manifest: Manifest, document: Document) -> tuple[str, str | None]:
    """Enter a document in the manifest (and its PDF in the folder, if it has one);
    returns its file name and its appointment time."""
    assert document.row is not None
    request = json.loads(
        cipher().open(document.request_sealed or b"", documents.request_context(document.id))
    )
    job = Job(document.row, document.kind, document.locale, request)
    manifest.track(job)
    result: dict[str, Any] = {"status": document.status, "error": document.error}
    if document.status == DocumentStatus.DONE and document.pdf_sealed is not None:
        pdf = cipher().open(document.pdf_sealed, documents.pdf_context(document.id))
        write_atomic(inside(manifest.folder, job.file_name), pdf)
        result |= {"sha256": document.sha256, "pages": document.pages, "bytes": document.bytes}
    manifest.record(job.file_name, result)
    return job.file_name, job.appointment
