"""Where renders run: never in the server's event loop or threads.

Embedded, a pool of warm render processes on this machine (one per core, started with
:func:`dn_docs.warm_up`); with a broker, Celery workers anywhere. Either way the server
hands over a job name and a document or batch id (:mod:`dn_docs.service.jobs`) and
learns from the database when a document is finished.

The number of single documents a server lets wait is bounded (``DN_DOCS_MAX_PENDING``):
past it, 429 with ``Retry-After``. A batch's documents go to the local pool a few at a
time, so a clinic's single documents are not stuck behind a whole batch.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import multiprocessing
import time
from abc import ABC, abstractmethod
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ..errors import BusyError, UnavailableError
from . import db, jobs
from .models import FINISHED, Batch, BatchStatus, Document, DocumentStatus
from .services.documents import record_outcome
from .services.signing import sealing_sessions
from .settings import Settings

log = logging.getLogger("dn_docs.service")

#: How often the server looks in the database for documents that workers finished.
POLL_SECONDS = 0.05


class Renders(ABC):
    """The render processes as the server sees them."""

    def __init__(self, config: Settings) -> None:
        self.config = config
        self.pending = 0
        self.seconds_per_render = 0.5  # a moving average, for Retry-After

    @property
    @abstractmethod
    def processes(self) -> int: ...

    def admit(self) -> None:
        """Count a new render as pending, or refuse it while too many wait (429)."""
        if self.pending >= self.config.max_pending:
            wait = self.pending * self.seconds_per_render / max(1, self.processes)
            raise BusyError(
                f"{self.pending} renders are waiting; try again shortly", max(1, math.ceil(wait))
            )
        self.pending += 1

    def release(self) -> None:
        """Give back an admitted render that was not started."""
        self.pending -= 1

    async def render(self, document_id: str) -> asyncio.Future[None]:
        """Start rendering a stored, admitted document; the future is done when it is
        finished (and no longer pending)."""
        started = time.monotonic()
        finished = await self._start(jobs.RENDER, document_id)

        def done(_: asyncio.Future[None]) -> None:
            self.pending -= 1
            took = time.monotonic() - started
            self.seconds_per_render = 0.9 * self.seconds_per_render + 0.1 * took / max(
                1, self.pending + 1
            )

        finished.add_done_callback(done)
        return finished

    async def start_batch(self, batch_id: str) -> None:
        await self._start(jobs.PLAN, batch_id)

    async def finish_batch(self, batch_id: str) -> None:
        await self._start(jobs.FINISH, batch_id)

    async def seal_signatures(self, session_id: str) -> asyncio.Future[None]:
        """Start sealing a signing session's consent; with the local pool the future is
        done when it is sealed, with Celery when the job is sent (the database says more)."""
        return await self._start(jobs.SIGN, session_id)

    @abstractmethod
    async def _start(self, job: str, object_id: str) -> asyncio.Future[None]: ...

    @abstractmethod
    async def start(self) -> None:
        """Start what runs the renders."""

    @abstractmethod
    async def close(self) -> None:
        """Stop it."""

    @abstractmethod
    async def checks(self) -> dict[str, str]:
        """Readiness of the broker and the renderer: "ok" or what is wrong."""


class LocalRenders(Renders):
    """A pool of warm render processes on this machine."""

    def __init__(self, config: Settings) -> None:
        super().__init__(config)
        self.pool: ProcessPoolExecutor | None = None
        self.self_test: str = "starting"
        # A batch's follow-up renders wait here; at most one per process runs at once.
        self.backlog: collections.deque[jobs.FollowUp] = collections.deque()
        self.backlog_running = 0
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def processes(self) -> int:
        return self.config.render_processes

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.processes,
            # Not forked from a server with threads and an event loop.
            mp_context=multiprocessing.get_context("spawn"),
            initializer=jobs.init_process,
        )

    async def start(self) -> None:
        self.pool = self._new_pool()
        self._spawn(self._self_test())
        self._spawn(self._recover())

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _self_test(self) -> None:
        # One call per process starts them all now, warm before the first request.
        assert self.pool is not None
        calls = [self.pool.submit(jobs.self_test) for _ in range(self.processes)]
        try:
            pages = [await asyncio.wrap_future(call) for call in calls]
        except Exception as exc:
            self.self_test = f"failed: {type(exc).__name__}"
            log.error("renderer self-test failed: %s", type(exc).__name__)
            return
        self.self_test = "ok" if all(pages) else "failed: an empty document"
        log.info("%d render processes ready", self.processes)

    async def _recover(self) -> None:
        """Jobs a previous run of the server left unfinished."""
        follow_ups = await run_in_threadpool(unfinished_jobs)
        if follow_ups:
            log.info("resuming %d unfinished jobs", len(follow_ups))
        for job, object_id in follow_ups:
            self._follow(job, object_id)

    async def _start(self, job: str, object_id: str) -> asyncio.Future[None]:
        if self.pool is None:
            raise UnavailableError("the render processes are not running")
        pool = self.pool
        call: Future[list[jobs.FollowUp]] = pool.submit(jobs.run, job, object_id)
        finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def done(call: Future[list[jobs.FollowUp]]) -> None:
            try:
                follow_ups = call.result()
            except BrokenProcessPool:
                follow_ups = []
                self._spawn(self._replace_pool(pool, job, object_id))
            except Exception as exc:
                follow_ups = []
                log.error("%s %s: %s", job, object_id, type(exc).__name__)
            for follow_job, follow_id in follow_ups:
                self._follow(follow_job, follow_id)
            if not finished.done():
                finished.set_result(None)

        call.add_done_callback(lambda c: finished.get_loop().call_soon_threadsafe(done, c))
        return finished

    def _follow(self, job: str, object_id: str) -> None:
        if job == jobs.RENDER:
            self.backlog.append((job, object_id))
            self._pump()
        else:
            self._spawn(self._start(job, object_id))

    def _pump(self) -> None:
        while self.backlog and self.backlog_running < self.processes:
            job, object_id = self.backlog.popleft()
            self.backlog_running += 1
            self._spawn(self._run_backlog(job, object_id))

    async def _run_backlog(self, job: str, object_id: str) -> None:
        try:
            await (await self._start(job, object_id))
        finally:
            self.backlog_running -= 1
            self._pump()

    async def _replace_pool(self, broken: ProcessPoolExecutor, job: str, object_id: str) -> None:
        """A render process died (killed, out of memory): the documents it and the other
        processes had in hand failed; new processes take the next ones."""
        log.error("a render process died during %s %s", job, object_id)
        if self.pool is broken:
            self.pool = self._new_pool()
            broken.shutdown(wait=False, cancel_futures=True)
            self._spawn(self._self_test())
        if job == jobs.RENDER:
            batch_id = await run_in_threadpool(mark_failed, object_id, "the render process died")
            if batch_id:
                self._follow(jobs.FINISH, batch_id)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    async def checks(self) -> dict[str, str]:
        return {"broker": "not used", "renderer": self.self_test}


class BrokerRenders(Renders):
    """Celery workers, reached through the broker; finished documents seen in the database."""

    def __init__(self, config: Settings) -> None:
        super().__init__(config)
        from worker import create_app

        assert config.broker_url
        self.app = create_app(config.broker_url)
        self.waiters: dict[str, asyncio.Future[None]] = {}
        self.poller: asyncio.Task[None] | None = None

    @property
    def processes(self) -> int:
        return self.config.render_processes

    def _send(self, job: str, object_id: str) -> None:
        from .tasks import TASK

        # No retries: a broker that is down is a 503 now, not a request hanging.
        self.app.send_task(TASK, args=[job, object_id], queue=self.config.queue, retry=False)

    async def _start(self, job: str, object_id: str) -> asyncio.Future[None]:
        finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if job == jobs.RENDER:
            self.waiters[object_id] = finished
        try:
            await run_in_threadpool(self._send, job, object_id)
        except BaseException:
            self.waiters.pop(object_id, None)
            raise
        if job != jobs.RENDER:
            finished.set_result(None)
        elif self.poller is None or self.poller.done():
            self.poller = asyncio.get_running_loop().create_task(self._poll())
        return finished

    async def _poll(self) -> None:
        while self.waiters:
            await asyncio.sleep(POLL_SECONDS)
            ids = list(self.waiters)[:500]
            try:
                finished = await run_in_threadpool(finished_documents, ids)
            except Exception as exc:
                log.warning("cannot read document states: %s", type(exc).__name__)
                await asyncio.sleep(1)
                continue
            for document_id in finished:
                waiter = self.waiters.pop(document_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

    async def start(self) -> None:
        """The workers run elsewhere: nothing to start here."""

    async def close(self) -> None:
        if self.poller is not None:
            self.poller.cancel()

    async def checks(self) -> dict[str, str]:
        return await run_in_threadpool(self._checks)

    def _checks(self) -> dict[str, str]:
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:
            return {"broker": f"unreachable: {type(exc).__name__}", "renderer": "unknown"}
        replies = self.app.control.ping(timeout=1.0)
        return {"broker": "ok", "renderer": "ok" if replies else "no worker answers"}


def create_renders(config: Settings) -> Renders:
    return BrokerRenders(config) if config.broker_url else LocalRenders(config)


def finished_documents(ids: list[str]) -> list[str]:
    with db.session() as session:
        query = select(Document.id).where(Document.id.in_(ids), Document.status.in_(FINISHED))
        return list(session.scalars(query))


def mark_failed(document_id: str, reason: str) -> str | None:
    """Record a document as failed; its batch's id if that was the batch's last one."""
    return record_outcome(document_id, {"status": DocumentStatus.FAILED, "error": reason})


def unfinished_jobs() -> list[jobs.FollowUp]:
    """What the local pool of an earlier run left: batches to read, documents to render,
    outputs to make, signed consents to seal."""
    with db.session() as session:
        planned = [
            (jobs.PLAN, batch_id)
            for batch_id in session.scalars(
                select(Batch.id).where(Batch.status == BatchStatus.QUEUED)
            )
        ]
        renders = [
            (jobs.RENDER, document_id)
            for document_id in session.scalars(
                select(Document.id)
                .where(Document.status.in_([DocumentStatus.QUEUED, DocumentStatus.RENDERING]))
                .order_by(Document.created_at, Document.row)
            )
        ]
        finishing = [
            (jobs.FINISH, batch_id)
            for batch_id in session.scalars(
                select(Batch.id).where(Batch.finishing.is_(True), Batch.finished_at.is_(None))
            )
        ]
        sealing = [(jobs.SIGN, session_id) for session_id in sealing_sessions(session)]
    return planned + renders + finishing + sealing
