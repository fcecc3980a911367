"""Batches: many rows in, one PDF per row and kind out, locally or on Celery workers."""

from .dispatch import CeleryDispatcher, Dispatcher, LocalDispatcher
from .inputs import Job, RowError, plan
from .runner import BatchSummary, run_batch

__all__ = [
    "BatchSummary",
    "CeleryDispatcher",
    "Dispatcher",
    "Job",
    "LocalDispatcher",
    "RowError",
    "plan",
    "run_batch",
]
