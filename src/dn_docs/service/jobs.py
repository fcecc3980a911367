"""What a render process does with an id: the jobs the local pool and Celery run.

A job is a name and an object id, never a request: the process reads what it needs
from the database. A job returns the jobs that follow from it (a batch's documents
after its rows are read, its outputs after its last document).
"""

from __future__ import annotations

import logging

from .models import Batch, BatchStatus
from .services import batches, documents, signing
from .settings import settings

log = logging.getLogger("dn_docs.service")

RENDER = "render"
PLAN = "plan"
FINISH = "finish"
#: Place a signing session's signatures in its consent and seal it.
SIGN = "sign"

FollowUp = tuple[str, str]


def run(job: str, object_id: str) -> list[FollowUp]:
    if job == RENDER:
        batch_id = documents.render_stored(object_id, settings().soft_time_limit)
        return [(FINISH, batch_id)] if batch_id else []
    if job == SIGN:
        signing.seal_stored(object_id)
        return []
    try:
        if job == PLAN:
            ids, finish_now = batches.plan_stored(object_id)
            return [(RENDER, i) for i in ids] + ([(FINISH, object_id)] if finish_now else [])
        if job == FINISH:
            batches.finish_stored(object_id)
            return []
    except Exception as exc:
        log.error("batch %s: %s failed: %s", object_id, job, type(exc).__name__)
        _fail_batch(object_id)
        return []
    raise ValueError(f"unknown job {job!r}")


def _fail_batch(batch_id: str) -> None:
    from . import db
    from .models import utcnow

    with db.session() as session:
        batch = session.get(Batch, batch_id)
        if batch is not None and batch.finished_at is None:
            batch.status, batch.error = BatchStatus.FAILED, "internal error; it is logged"
            batch.finished_at = utcnow()


def init_process() -> None:
    """A local pool process: logs like the server's, warm in the clinics' languages."""
    from worker import warm_languages

    from ..pipeline import warm_up

    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("dn_docs").setLevel(logging.INFO)
    warm_up(warm_languages())


def self_test() -> int:
    """Render the example consent here, without storing it; its page count."""
    from ..examples import example_request
    from ..pipeline import render_document

    return render_document(example_request("en", "consent")).pages
