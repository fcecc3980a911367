"""Batches: many rows in, one PDF per row and kind out, locally or on Celery workers."""

from .dispatch import DEFAULT_QUEUE, CeleryDispatcher, Dispatcher, LocalDispatcher
from .inputs import InputOptions, Job, Plan, plan
from .interrupt import Interruption
from .references import (
    FileRequestStore,
    Reference,
    RequestSource,
    RequestStore,
    RequestWithdrawnError,
    register_source,
    resolve,
)
from .runner import BatchSummary, run_batch
from .sheet import RowError

__all__ = [
    "DEFAULT_QUEUE",
    "BatchSummary",
    "CeleryDispatcher",
    "Dispatcher",
    "FileRequestStore",
    "InputOptions",
    "Interruption",
    "Job",
    "LocalDispatcher",
    "Plan",
    "Reference",
    "RequestSource",
    "RequestStore",
    "RequestWithdrawnError",
    "RowError",
    "plan",
    "register_source",
    "resolve",
    "run_batch",
]
