"""Where jobs run: a local process pool, or Celery workers through a broker.

Both take the same payloads and report the same result dicts through ``on_result``,
so the rest of a batch does not care where the work happened. Both stop starting
documents when the batch is interrupted and report the ones in flight.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from kombu.exceptions import (  # type: ignore[attr-defined]  # the stubs predate kombu 5.7
    BatchPublishError,
    OperationalError,
)
from kombu.utils.url import maybe_sanitize_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..errors import BatchAbortedError
from ..pipeline import warm_up
from .interrupt import Interruption, ignore_interrupts
from .jobs import failure, run_job

log = logging.getLogger("dn_docs.batch")

# What a broker or result backend that is down or restarting raises.
BROKER_DOWN = (RedisConnectionError, RedisTimeoutError, OperationalError, ConnectionError, OSError)

OnResult = Callable[[str, dict[str, Any]], None]
#: Job payloads by key (the output file name), and what tells a dispatcher to stop.
Payloads = dict[str, dict[str, Any]]
Stop = Interruption | None

#: The Celery task that renders a list of jobs, and how many jobs a message carries.
RENDER_JOBS = "dn_docs.render_jobs"
JOBS_PER_MESSAGE = 4
#: The last jobs of a batch go one to a message; while this many messages or fewer are
#: unfinished, results are polled ten times as often: the batch is done when the last
#: one is seen, and a poll for a few keys costs little.
LAST_FEW = 8
#: How often the dispatcher asks Redis which server it is: a new one has restarted and
#: lost the queued jobs. Asking on every poll cost more than sending the jobs.
SERVER_CHECK_SECONDS = 1.0
#: The queue dn-docs sends to and its workers consume, unless told otherwise: not
#: Celery's shared ``celery`` queue, where other apps' workers would take (and log) jobs.
DEFAULT_QUEUE = "dn-docs"
#: Seconds without a finished document before the dispatcher asks whether any worker
#: consumes its queue, and how long the broker may stay unreachable.
WORKER_WAIT = 60.0
BROKER_WAIT = 120.0


class Dispatcher(Protocol):
    #: True if jobs leave this machine in messages, so requests must go by reference.
    by_reference: bool

    def run(self, payloads: Payloads, on_result: OnResult, stop: Stop = None) -> None: ...


def _render_process_init() -> None:
    ignore_interrupts()
    warm_up()


class LocalDispatcher:
    """A process pool on this machine: no broker needed."""

    by_reference = False

    def __init__(self, workers: int | None = None, time_limit: float | None = 60) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.time_limit = time_limit

    def run(self, payloads: Payloads, on_result: OnResult, stop: Stop = None) -> None:
        stop = stop or Interruption()
        if self.workers == 1:
            # One worker: render here, without starting a process.
            if len(payloads) > 1:
                warm_up()
            for key, job in payloads.items():
                if stop.is_set():
                    return
                on_result(key, run_job(job, self.time_limit))
            return
        if not payloads:
            return
        with ProcessPoolExecutor(
            max_workers=min(self.workers, len(payloads)), initializer=_render_process_init
        ) as pool:
            futures: dict[Future[dict[str, Any]], str] = {
                pool.submit(run_job, job, self.time_limit): key for key, job in payloads.items()
            }
            while futures:
                finished, _ = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
                if stop.is_set():
                    # Documents not started are left for --resume; the ones rendering finish.
                    for future in [f for f in futures if f not in finished and f.cancel()]:
                        del futures[future]
                    if stop.abandon:
                        return
                for future in finished:
                    key = futures.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        result = failure("the render process died")
                    on_result(key, result)


class CeleryDispatcher:
    """Celery workers on a Redis broker.

    Jobs go to workers :data:`JOBS_PER_MESSAGE` to a message (the last few of a batch
    one each, so they spread over every worker process): that divides the work per job
    of the broker, the worker's main process and this dispatcher, which on a machine that
    also renders is taken from the render processes.

    Messages are acknowledged late and rejected if their worker dies, so a killed
    worker's jobs go to another one. If Redis restarts (it keeps queued jobs in memory)
    or stays unreachable, every job without a result is sent again; jobs write their
    file atomically under a fixed name, so a job that runs twice still leaves one file.
    """

    by_reference = True

    def __init__(
        self,
        app: Any,
        queue: str = DEFAULT_QUEUE,
        stall_timeout: float = 600,
        poll_interval: float = 0.1,
        max_resends: int = 5,
        worker_wait: float = WORKER_WAIT,
        broker_wait: float = BROKER_WAIT,
    ) -> None:
        self.app = app
        self.queue = queue
        self.stall_timeout = stall_timeout
        self.poll_interval = poll_interval
        self.max_resends = max_resends
        self.worker_wait = worker_wait
        self.broker_wait = broker_wait

    @staticmethod
    def messages(keys: list[str]) -> list[list[str]]:
        """``keys`` grouped into messages, in order."""
        paired = max(0, len(keys) - LAST_FEW)
        paired -= paired % JOBS_PER_MESSAGE
        return [keys[i : i + JOBS_PER_MESSAGE] for i in range(0, paired, JOBS_PER_MESSAGE)] + [
            [key] for key in keys[paired:]
        ]

    def _send(self, messages: list[list[dict[str, Any]]]) -> list[bytes]:
        """Publish each message's payloads; the messages' result keys, in order.

        The first :data:`LAST_FEW` messages go out one at a time, so idle workers start at
        once; the rest reach Redis in one round trip.
        """
        backend = self.app.backend
        keys = []
        try:
            with self.app.producer_or_acquire() as producer, producer.batch() as batch:
                for number, payloads in enumerate(messages):
                    task_id = str(uuid.uuid4())
                    self.app.send_task(
                        RENDER_JOBS,
                        args=[payloads],
                        task_id=task_id,
                        queue=self.queue,
                        producer=producer,
                        # What monitoring (celery inspect, Flower, task events) shows of
                        # the jobs: Celery's default is the arguments themselves, the
                        # patients' requests.
                        argsrepr=repr([[payload["file"] for payload in payloads]]),
                        kwargsrepr="{}",
                    )
                    keys.append(backend.get_key_for_task(task_id))
                    if number < LAST_FEW:
                        batch.flush()
        except BatchPublishError as exc:
            # kombu wraps what the Redis pipeline raised: Redis gone is an outage.
            if isinstance(exc.__cause__, BROKER_DOWN):
                raise exc.__cause__ from None
            raise
        return keys

    def _server_id(self) -> str:
        return str(self.app.backend.client.info("server")["run_id"])

    def _consumed(self) -> bool:
        """Whether any worker answers that it consumes this dispatcher's queue (True when
        the broker cannot be asked: an outage has its own bound)."""
        try:
            # A connection of its own, closed here: the reply queue's read must not be
            # left pending on a pooled connection, which a forked process (a local
            # pool's, in the same program) would then wait on as kombu closes it.
            with self.app.connection_for_write() as connection:
                inspect = self.app.control.inspect(timeout=1.0, connection=connection)
                replies = inspect.active_queues() or {}
        except BROKER_DOWN:
            return True
        return any(
            queue.get("name") == self.queue for queues in replies.values() for queue in queues or []
        )

    def _broker(self) -> str:
        return str(maybe_sanitize_url(self.app.conf.broker_url))

    def run(self, payloads: Payloads, on_result: OnResult, stop: Stop = None) -> None:
        stop = stop or Interruption()
        stop_seen = False
        waiting: dict[bytes, list[str]] = {}  # a message's result key → its job keys
        resends: dict[str, int] = dict.fromkeys(payloads, 0)
        unsent = list(payloads)
        server: str | None = None
        checked_at = -SERVER_CHECK_SECONDS
        last_progress = last_stall = time.monotonic()
        down_since: float | None = None
        while unsent or waiting:
            if stop.is_set():
                if stop.abandon:
                    return
                if unsent or not stop_seen:
                    # Jobs not yet started find their requests gone and write nothing; the
                    # ones rendering finish and are recorded.
                    stop.withdraw()
                    unsent = []
                    stop_seen, last_progress = True, time.monotonic()
                    continue
            try:
                if down_since is not None or time.monotonic() - checked_at >= SERVER_CHECK_SECONDS:
                    current = self._server_id()
                    checked_at = time.monotonic()
                    if down_since is not None or (server is not None and current != server):
                        log.warning(
                            "broker restarted or was unreachable; sending unfinished jobs again"
                        )
                        unsent += [key for message in list(waiting) for key in waiting.pop(message)]
                        if stop.is_set():
                            unsent = []
                    server, down_since = current, None
                if unsent:
                    messages = self.messages(unsent)
                    sent = self._send([[payloads[key] for key in keys] for keys in messages])
                    waiting.update(zip(sent, messages, strict=True))
                    unsent = []
                finished = self._collect(waiting)
            except BROKER_DOWN as exc:
                down_since = down_since or time.monotonic()
                if time.monotonic() - down_since > self.broker_wait:
                    raise BatchAbortedError(
                        f"the broker {self._broker()} has been unreachable for "
                        f"{self.broker_wait:g} s; the documents done so far are recorded"
                    ) from None
                log.warning("broker unreachable (%s); retrying", type(exc).__name__)
                stop.wait(1)
                continue
            for message, results in finished.items():
                for key, result in zip(waiting.pop(message), results, strict=True):
                    on_result(key, result)
                last_progress = last_stall = time.monotonic()
            idle = time.monotonic() - last_progress
            if waiting and idle > self.worker_wait:
                if stop.is_set():
                    return  # the jobs still out stay to be done by --resume
                if not self._consumed():
                    raise BatchAbortedError(
                        f"no worker is consuming queue '{self.queue}' (no document finished "
                        f"in {self.worker_wait:g} s); start one with: celery -A worker worker "
                        f"-Q {self.queue}, then run the batch again with --resume"
                    )
                last_progress = time.monotonic()
            if waiting and time.monotonic() - last_stall > self.stall_timeout:
                last_stall = time.monotonic()
                for message in list(waiting):
                    for key in waiting.pop(message):
                        resends[key] += 1
                        if resends[key] > self.max_resends:
                            on_result(
                                key, failure("no worker finished the job; are workers running?")
                            )
                        else:
                            unsent.append(key)
            if waiting:
                near_end = not unsent and len(waiting) <= LAST_FEW
                stop.wait(self.poll_interval / 10 if near_end else self.poll_interval)

    def _collect(self, waiting: dict[bytes, list[str]]) -> dict[bytes, list[dict[str, Any]]]:
        """The finished messages' results, by result key: one per job, in order."""
        backend = self.app.backend
        keys = list(waiting)
        finished = {}
        for key, raw in zip(keys, backend.client.mget(keys), strict=True):
            if raw is None:
                continue
            meta = backend.decode_result(raw)
            status = meta.get("status")
            if status == "SUCCESS":
                finished[key] = [dict(result) for result in meta["result"]]
            elif status in ("FAILURE", "REVOKED"):
                # Celery turns a failure's result back into the exception it stored.
                error = meta.get("result")
                name = (
                    type(error).__name__
                    if isinstance(error, BaseException)
                    else str((error or {}).get("exc_type", "error"))
                    if isinstance(error, dict)
                    else "error"
                )
                finished[key] = [failure(f"worker error: {name}") for _ in waiting[key]]
        return finished
