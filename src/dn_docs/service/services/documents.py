"""Single documents: a request made from the clinic's defaults, stored sealed, rendered.

:func:`render_stored` is the one render path: a local pool process and a Celery worker
both call it with a document id. It reads the sealed request from the database,
renders, and stores the sealed PDF with its metadata.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...batch.inputs import merge_defaults
from ...content import select as select_content
from ...errors import ConflictError, ConsentRefusedError, DnDocsError, RequestError
from ...pipeline import render_document
from ...request import DocumentRequest, parse_request
from ...storage import write_atomic
from ..models import FINISHED, Batch, Clinic, Document, DocumentStatus, utcnow
from ..security import cipher
from . import audit, clinics
from .access import Caller, owned

log = logging.getLogger("dn_docs.service")

ASSETS_ENV = "DN_DOCS_ASSETS_DIR"


def request_context(document_id: str) -> str:
    return f"document/{document_id}/request"


def pdf_context(document_id: str) -> str:
    return f"document/{document_id}/pdf"


def build_request(clinic: Clinic, body: Any) -> DocumentRequest:
    """``body`` over the clinic's defaults, validated; a refused consent is a bad request."""
    if not isinstance(body, dict):
        raise RequestError([("request", "must be a JSON object")])
    given = body.get("clinic")
    if isinstance(given, dict) and "logo" in given:
        raise RequestError([("clinic.logo", "is set once for the clinic: PUT /v1/clinic/logo")])
    data = merge_defaults(clinics.request_defaults(clinic), body)
    if logo := clinics.logo_file_name(clinic):
        data["clinic"] = {**data.get("clinic", {}), "logo": logo}
    request = parse_request(data)
    try:
        select_content(request)
    except ConsentRefusedError:
        raise RequestError([("screening", ConsentRefusedError.public_message)]) from None
    return request


def create_document(
    db: Session,
    caller: Caller,
    request: DocumentRequest,
    batch_id: str | None = None,
    row: int | None = None,
) -> Document:
    """Store ``request`` sealed, as a queued document of the caller's clinic."""
    document = Document(
        clinic_id=caller.clinic_id,
        batch_id=batch_id,
        row=row,
        kind=request.kind,
        locale=request.locale,
        created_by=caller.actor,
        created_at=utcnow().replace(microsecond=0),
    )
    db.add(document)
    db.flush()
    plain = request.model_dump_json().encode("utf-8")
    document.request_sealed = cipher().seal(plain, request_context(document.id))
    if batch_id is None:
        audit.record(db, caller.clinic_id, caller.actor, "document.create", document.id)
    return document


def get_document(db: Session, caller: Caller, document_id: str) -> Document:
    """The caller's clinic's document; another clinic's or an unknown id is 404."""
    return owned(db, Document, document_id, caller, "document")


def recent_documents(db: Session, caller: Caller, limit: int = 100) -> list[Document]:
    """The clinic's newest single documents first (batches list their own)."""
    query = (
        select(Document)
        .where(Document.clinic_id == caller.clinic_id, Document.batch_id.is_(None))
        .order_by(Document.created_at.desc(), Document.id)
        .limit(limit)
    )
    return list(db.scalars(query))


def stored_request(document: Document) -> dict[str, Any] | None:
    """A document's request, opened (for the clinic's own signed-in users only); None
    once retention has removed it."""
    if document.request_sealed is None:
        return None
    parsed: dict[str, Any] = json.loads(
        cipher().open(document.request_sealed, request_context(document.id))
    )
    return parsed


def finished_pdf(document: Document) -> bytes | None:
    """The PDF of a document that is done (the caller that made it is waiting for it)."""
    if document.status != DocumentStatus.DONE or document.pdf_sealed is None:
        return None
    return cipher().open(document.pdf_sealed, pdf_context(document.id))


def document_pdf(db: Session, caller: Caller, document_id: str) -> bytes:
    """A document's PDF, downloaded: 409 until it is done."""
    pdf = finished_pdf(get_document(db, caller, document_id))
    if pdf is None:
        raise ConflictError(f"document {document_id} has no PDF (yet)")
    audit.record(db, caller.clinic_id, caller.actor, "document.download", document_id)
    return pdf


@cache
def _logo_folder(pid: int) -> Path:
    return Path(tempfile.mkdtemp(prefix="dn-docs-logos-"))


@contextmanager
def clinic_logo(clinic: Clinic | None, name: str | None) -> Iterator[None]:
    """The clinic's logo as a file the composer reads, for the time of one render."""
    if not name or clinic is None or clinic.logo is None:
        yield
        return
    folder = _logo_folder(os.getpid())
    path = folder / name
    if not path.exists():
        write_atomic(path, clinic.logo)
    previous = os.environ.get(ASSETS_ENV)
    os.environ[ASSETS_ENV] = str(folder)
    try:
        yield
    finally:
        if previous is None:
            del os.environ[ASSETS_ENV]
        else:
            os.environ[ASSETS_ENV] = previous


def render_stored(document_id: str, seconds: float) -> str | None:
    """Render a stored document; returns its batch's id if this finished the batch's
    last document (the batch's outputs are then to be made), else None."""
    from .. import db

    with db.session() as session:
        document = session.get(Document, document_id)
        if document is None or document.status not in (
            DocumentStatus.QUEUED,
            DocumentStatus.RENDERING,  # delivered again: its first worker died
        ):
            return None
        document.status, document.started_at = DocumentStatus.RENDERING, utcnow()
        assert document.request_sealed is not None
        plain = cipher().open(document.request_sealed, request_context(document_id))
        generated_at: dt.datetime = document.created_at
        request: dict[str, Any] = json.loads(plain)
        logo_name = request["clinic"].get("logo")
        clinic = session.get(Clinic, document.clinic_id) if logo_name else None
        if clinic is not None:
            _ = clinic.logo  # loaded now, used after the session ends
    outcome: dict[str, Any]
    try:
        with clinic_logo(clinic, logo_name):
            rendered = render_document(request, generated_at=generated_at, seconds=seconds)
    except ConsentRefusedError:
        outcome = {"status": DocumentStatus.FAILED, "error": ConsentRefusedError.public_message}
    except DnDocsError as exc:
        # These messages are written for operators and carry no patient data.
        log.warning("document %s failed: %s", document_id, type(exc).__name__)
        outcome = {"status": DocumentStatus.FAILED, "error": str(exc)}
    except Exception as exc:
        log.error("document %s failed: %s", document_id, type(exc).__name__)
        outcome = {"status": DocumentStatus.FAILED, "error": "internal error while rendering"}
    else:
        outcome = {
            "status": DocumentStatus.DONE,
            "pdf_sealed": cipher().seal(rendered.pdf, pdf_context(document_id)),
            "sha256": rendered.sha256,
            "pages": rendered.pages,
            "bytes": len(rendered.pdf),
        }
        log.info("document %s done: %d pages", document_id, rendered.pages)
    return record_outcome(document_id, outcome)


def record_outcome(document_id: str, outcome: dict[str, Any]) -> str | None:
    """Store how a render ended; returns the document's batch's id if that was the
    batch's last unfinished document (its outputs are then to be made)."""
    from .. import db

    with db.session() as session:
        batch_id = session.scalar(select(Document.batch_id).where(Document.id == document_id))
        batch = None
        if batch_id is not None:
            # Lock the batch first: of two documents finishing at once, the second
            # counts after the first has committed, so one of them sees the last.
            batch = session.scalar(select(Batch).where(Batch.id == batch_id).with_for_update())
        document = session.get(Document, document_id)
        if document is None or document.status in FINISHED:  # purged, or cancelled
            return None
        for name, value in outcome.items():
            setattr(document, name, value)
        document.finished_at = utcnow()
        session.flush()
        if batch is None or batch.finishing:
            return None
        unfinished = session.scalar(
            select(func.count())
            .select_from(Document)
            .where(
                Document.batch_id == batch.id,
                Document.status.in_([DocumentStatus.QUEUED, DocumentStatus.RENDERING]),
            )
        )
        if unfinished:
            return None
        batch.finishing = True
        return batch.id
