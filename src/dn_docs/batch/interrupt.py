"""Stopping a batch on SIGINT or SIGTERM without losing what is done.

The first signal stops new documents from starting; the ones already rendering are
finished and recorded, so ``--resume`` renders nothing twice. A second signal
abandons them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interruption:
    """Whether, and by which signal, a batch was asked to stop."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal: int | None = None
        self.count = 0
        self._on_withdraw: list[Callable[[], None]] = []
        self._withdrawn = False

    def trigger(self, signum: int) -> None:
        self.signal = signum
        self.count += 1
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    @property
    def abandon(self) -> bool:
        """A second signal: stop waiting for documents in flight."""
        return self.count > 1

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if a signal comes."""
        self._event.wait(seconds)

    def on_withdraw(self, callback: Callable[[], None]) -> None:
        self._on_withdraw.append(callback)

    def withdraw(self) -> None:
        """Take back every job not yet started (once): what the dispatcher calls on a stop."""
        if not self._withdrawn:
            self._withdrawn = True
            for callback in self._on_withdraw:
                callback()


@contextmanager
def signals_stop(stop: Interruption) -> Iterator[Interruption]:
    """SIGINT and SIGTERM trigger ``stop`` while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.trigger(signum)

    previous = {number: signal.signal(number, handler) for number in SIGNALS}
    try:
        yield stop
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def ignore_interrupts() -> None:
    """In a render process: Ctrl-C reaches the whole process group, and the batch, not
    each process, decides what stops."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
