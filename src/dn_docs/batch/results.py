"""Where workers leave each message's results: Celery's Redis backend, read by polling.

:class:`~dn_docs.batch.dispatch.CeleryDispatcher` reads every unfinished message's
result with one ``MGET`` per poll. Celery's Redis backend would also subscribe the
sending process to a channel for each message it sends, to wake a caller blocked in
``AsyncResult.get()``, which nothing here is. Each subscription cost the batch time
while the render processes needed the CPU, Redis a published copy of every result,
and, when Redis went away in the middle of sending, a traceback on the operator's
terminal as Celery gave up on it.
"""

from __future__ import annotations

from typing import Any

from celery.backends.redis import RedisBackend

#: ``result_backend`` for a Redis URL, in the ``module:Class+url`` form Celery reads.
SCHEME = f"{__name__}:PolledRedisBackend+"


class PolledRedisBackend(RedisBackend):
    def on_task_call(self, producer: Any, task_id: str) -> None:
        """Sending a message subscribes to nothing: its result is polled."""
