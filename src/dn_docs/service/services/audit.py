"""The audit log: who did what to which object, when. Ids and actions, never patient data.

Each event is a row in ``audit_events`` and a line on the ``dn_docs.audit`` logger.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEvent

log = logging.getLogger("dn_docs.audit")


def record(
    db: Session, clinic_id: str | None, actor: str, action: str, object_id: str | None = None
) -> None:
    db.add(AuditEvent(clinic_id=clinic_id, actor=actor, action=action, object_id=object_id))
    log.info("clinic=%s actor=%s action=%s object=%s", clinic_id, actor, action, object_id)


def events(db: Session, clinic_id: str, limit: int = 100) -> list[AuditEvent]:
    """The clinic's newest events first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.clinic_id == clinic_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))
