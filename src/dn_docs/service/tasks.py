"""The service's Celery task: ``celery -A worker worker`` runs it once ``worker`` imports
this module. A message carries a job name and an object id, nothing else."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from . import jobs
from .settings import settings

TASK = "dn_docs.service.job"


@shared_task(name=TASK, bind=True, ignore_result=True, acks_late=True)
def run_job(self: Task[Any, Any], job: str, object_id: str) -> None:
    queue = (self.request.delivery_info or {}).get("routing_key") or settings().queue
    for follow_job, follow_id in jobs.run(job, object_id):
        self.app.send_task(TASK, args=[follow_job, follow_id], queue=queue)
