"""Deleting patient data after each clinic's retention period.

Requests, PDFs, batch uploads and outputs are deleted once they are older than the
clinic's ``retention_days``, and with a document its signing sessions (the signed PDF
too); unsigned signing sessions a day after they expired; replayable idempotent
responses after a day at most. The
audit log keeps an ``expire`` event per deleted object (ids only).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import delete, select

from ..models import (
    Batch,
    BatchFile,
    Clinic,
    Document,
    IdempotencyRecord,
    SigningSession,
    SigningStatus,
    utcnow,
)
from . import audit

log = logging.getLogger("dn_docs.service")

#: How long a response is kept for replay under its Idempotency-Key.
IDEMPOTENCY_HOURS = 24
#: How long an unsigned signing session is kept after it expired (its tablet stays
#: locked until then, unless the practitioner leaves it or ends the session).
UNSIGNED_SESSION_HOURS = 24


@dataclass
class Purged:
    documents: int = 0
    batches: int = 0
    replays: int = 0
    signing_sessions: int = 0

    def __str__(self) -> str:
        return (
            f"{self.documents} documents, {self.batches} batches, {self.signing_sessions}"
            f" signing sessions and {self.replays} stored responses deleted"
        )


def purge_expired(now: dt.datetime | None = None) -> Purged:
    from .. import db

    now = now or utcnow()
    purged = Purged()
    with db.session() as session:
        for clinic in session.scalars(select(Clinic)).all():
            cutoff = now - dt.timedelta(days=clinic.retention_days)
            batch_ids = list(
                session.scalars(
                    select(Batch.id).where(Batch.clinic_id == clinic.id, Batch.created_at < cutoff)
                )
            )
            expired = Document.batch_id.in_(batch_ids) | (
                (Document.clinic_id == clinic.id) & (Document.created_at < cutoff)
            )
            document_ids = list(session.scalars(select(Document.id).where(expired)))
            abandoned = (
                (SigningSession.clinic_id == clinic.id)
                & (SigningSession.status != SigningStatus.SIGNED)
                & (SigningSession.expires_at < now - dt.timedelta(hours=UNSIGNED_SESSION_HOURS))
            )
            session_ids = list(
                session.scalars(
                    select(SigningSession.id).where(
                        SigningSession.document_id.in_(document_ids) | abandoned
                    )
                )
            )
            session.execute(delete(SigningSession).where(SigningSession.id.in_(session_ids)))
            session.execute(delete(Document).where(Document.id.in_(document_ids)))
            session.execute(delete(BatchFile).where(BatchFile.batch_id.in_(batch_ids)))
            session.execute(delete(Batch).where(Batch.id.in_(batch_ids)))
            for document_id in document_ids:
                audit.record(session, clinic.id, "system", "document.expire", document_id)
            for batch_id in batch_ids:
                audit.record(session, clinic.id, "system", "batch.expire", batch_id)
            for session_id in session_ids:
                audit.record(session, clinic.id, "system", "signing.expire", session_id)
            purged.signing_sessions += len(session_ids)
            purged.documents += len(document_ids)
            purged.batches += len(batch_ids)
            replay_cutoff = max(cutoff, now - dt.timedelta(hours=IDEMPOTENCY_HOURS))
            result = session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.clinic_id == clinic.id,
                    IdempotencyRecord.created_at < replay_cutoff,
                )
            )
            purged.replays += int(getattr(result, "rowcount", 0) or 0)
    if purged.documents or purged.batches or purged.signing_sessions:
        log.info("retention: %s", purged)
    return purged
