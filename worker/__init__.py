"""The dn-docs Celery app: ``celery -A worker worker``.

Configured from the environment (see :data:`SETTINGS_FROM_ENV`). The task is thin:
for each job of its message it calls :func:`dn_docs.batch.jobs.run_job`, which reads
the job's request by its reference, validates, renders, writes the PDF atomically
under ``DN_DOCS_OUTPUT_ROOT`` and returns metadata only (file, sha256, pages, bytes).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init

from dn_docs.batch.dispatch import DEFAULT_QUEUE, JOBS_PER_MESSAGE, RENDER_JOBS
from dn_docs.batch.jobs import failure, run_job
from dn_docs.batch.results import SCHEME as POLLED_RESULTS
from dn_docs.errors import UnsupportedLocaleError
from dn_docs.locales import negotiate
from dn_docs.pipeline import WARM_UP_LANGUAGES, warm_up

log = logging.getLogger("dn_docs.worker")

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"

#: Environment variable → what it sets, with its default.
SETTINGS_FROM_ENV = {
    "DN_DOCS_BROKER_URL": f"broker URL ({DEFAULT_BROKER}); use rediss://:password@host/0 for TLS",
    "DN_DOCS_RESULT_BACKEND": "result backend (the broker URL)",
    "DN_DOCS_SOFT_TIME_LIMIT": "seconds before a render is stopped and recorded as failed (60)",
    "DN_DOCS_TIME_LIMIT": "hard seconds per render (90): a message's process is killed and"
    " replaced after its renders' soft limits plus this limit's margin over the soft one",
    "DN_DOCS_VISIBILITY_TIMEOUT": "seconds before an unacknowledged job is redelivered (300)",
    "DN_DOCS_RESULT_EXPIRES": "seconds a job's metadata stays in the backend (86400)",
    "DN_DOCS_MAX_TASKS_PER_CHILD": "renders before a worker process is recycled, counted as"
    " messages of 4 (1000)",
    "DN_DOCS_TASK_EVENTS": "1 to send task events for Flower, as `celery worker -E` does (0)",
    "DN_DOCS_WARM_LANGUAGES": "languages a worker process lays out examples in when it starts (en)",
    "DN_DOCS_QUEUE": f"the queue jobs are sent to and consumed from ({DEFAULT_QUEUE})",
    "DN_DOCS_OUTPUT_ROOT": "the folder workers write under, refusing jobs for any other"
    " (out/ in the worker's working directory)",
}


def queue_name() -> str:
    return os.environ.get("DN_DOCS_QUEUE", "").strip() or DEFAULT_QUEUE


def output_root() -> Path:
    """``DN_DOCS_OUTPUT_ROOT``, or ``out/`` in the working directory; links resolved."""
    return Path(os.environ.get("DN_DOCS_OUTPUT_ROOT", "").strip() or "out").resolve()


def warm_languages() -> tuple[str, ...]:
    """The languages in ``DN_DOCS_WARM_LANGUAGES`` (comma-separated), read as requests'
    ``locale`` is (``es-MX`` and ``pt`` too); unsupported ones are logged and skipped."""
    default = ",".join(WARM_UP_LANGUAGES)
    chosen: dict[str, None] = {}
    for code in os.environ.get("DN_DOCS_WARM_LANGUAGES", default).split(","):
        code = code.strip()
        if not code:
            continue
        try:
            chosen[negotiate(code)] = None
        except UnsupportedLocaleError:
            log.warning("DN_DOCS_WARM_LANGUAGES: %r is not a supported language; skipped", code)
    return tuple(chosen)


def _number(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def render_seconds() -> float:
    """The soft time limit of one render."""
    return _number("DN_DOCS_SOFT_TIME_LIMIT", 60)


def message_limits() -> tuple[float, float]:
    """Celery's soft and hard time limits for a message of :data:`JOBS_PER_MESSAGE` jobs.

    Every render of the message may take its whole soft limit, and the last one the
    margin the hard limit gives a render on top. The hard limit stays below the default
    visibility timeout (270 s against 300 s), so Redis does not hand a message that is
    still rendering to a second worker.
    """
    soft, hard = render_seconds(), _number("DN_DOCS_TIME_LIMIT", 90)
    return JOBS_PER_MESSAGE * soft, JOBS_PER_MESSAGE * soft + max(0.0, hard - soft)


def broker_url() -> str:
    return os.environ.get("DN_DOCS_BROKER_URL", DEFAULT_BROKER)


def create_app(broker: str | None = None) -> Celery:
    app = Celery("dn_docs")
    broker = broker or broker_url()
    events = os.environ.get("DN_DOCS_TASK_EVENTS", "0") == "1"
    soft_limit, hard_limit = message_limits()
    visibility = _number("DN_DOCS_VISIBILITY_TIMEOUT", 300)
    if hard_limit >= visibility:
        log.warning(
            "a message may render for %g s (%d soft time limits and the hard limit's"
            " margin), not less than DN_DOCS_VISIBILITY_TIMEOUT (%g s): Redis may hand a"
            " message that is still rendering to a second worker",
            hard_limit,
            JOBS_PER_MESSAGE,
            visibility,
        )
    app.conf.update(
        broker_url=broker,
        result_backend=POLLED_RESULTS + os.environ.get("DN_DOCS_RESULT_BACKEND", broker),
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # A queue of dn-docs' own: a worker started without -Q consumes it, and other
        # apps' workers on Celery's default queue never see a job.
        task_default_queue=queue_name(),
        # A job must not be lost: acknowledge only after the PDF is written, and requeue
        # the job if the process running it dies.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={
            "visibility_timeout": visibility,
            # Look for jobs of dead workers every 10 s rather than every 100 s.
            "unacked_restore_throttle": 1,
        },
        result_backend_transport_options={"retry_policy": {"timeout": 5.0}},
        broker_connection_retry_on_startup=True,
        # Each render has its own soft limit (see _render_each); Celery's limits are for a
        # whole message.
        task_soft_time_limit=soft_limit,
        task_time_limit=hard_limit,
        # Celery counts messages; most carry JOBS_PER_MESSAGE renders.
        worker_max_tasks_per_child=max(
            1, int(_number("DN_DOCS_MAX_TASKS_PER_CHILD", 1000)) // JOBS_PER_MESSAGE
        ),
        worker_max_memory_per_child=400_000,  # KiB
        result_expires=int(_number("DN_DOCS_RESULT_EXPIRES", 86400)),
        # Task events let Flower show each job, at a few ms of the worker's main process
        # per document, which the render processes then lack; off unless asked for.
        worker_send_task_events=events,
        task_send_sent_event=events,
        task_track_started=events,
        worker_hijack_root_logger=False,
        # A process warms up before it reports itself ready (a few documents per
        # language); Celery's default of 4 s would kill it for taking that long.
        worker_proc_alive_timeout=120,
    )
    return app


app = create_app()
WARM_LANGUAGES = warm_languages()
OUTPUT_ROOT = output_root()


@worker_process_init.connect
def _warm_up(**_: Any) -> None:
    # Build fonts, the parsed stylesheet and WeasyPrint's caches in each child after
    # the fork, not in the first task, and lay out the sections the documents of the
    # clinics' languages share, so the first jobs of each process are not the slow ones.
    started = time.perf_counter()
    warm_up(WARM_LANGUAGES)
    log.info(
        "render process warmed up in %.1f s; examples laid out in: %s; writing under %s",
        time.perf_counter() - started,
        ", ".join(WARM_LANGUAGES) or "no language",
        OUTPUT_ROOT,
    )


def _render_each(job_payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seconds = render_seconds()
    results: list[dict[str, Any]] = []
    try:
        for job_payload in job_payloads:
            results.append(run_job(job_payload, seconds, output_root=OUTPUT_ROOT))
    except SoftTimeLimitExceeded:
        late = failure(f"render time limit of {seconds:g} s exceeded")
        results += [dict(late) for _ in job_payloads[len(results) :]]
    return results


@app.task(name=RENDER_JOBS, bind=True)
def render_jobs(self: Task[Any, Any], job_payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Render each job of a message: one result per job, in order."""
    return _render_each(job_payloads)


@app.task(name="dn_docs.render", bind=True)
def render(self: Task[Any, Any], job_payload: dict[str, Any]) -> dict[str, Any]:
    """One job, as dispatchers sent it before messages carried several: a queue may
    still hold such messages when its workers are upgraded."""
    return _render_each([job_payload])[0]


# The HTTP service's task (dn-docs serve with a broker): ids in, the database holds the rest.
from dn_docs.service import tasks as _service_tasks  # noqa: E402, F401
