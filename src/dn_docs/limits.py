"""Limits that keep one request from tying up a renderer: sizes and render time."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from .errors import RenderTimeoutError

#: The largest JSON request file accepted.
MAX_REQUEST_BYTES = 256 * 1024
#: The largest batch input file accepted.
MAX_INPUT_BYTES = 50 * 2**20
#: The largest clinic logo accepted.
MAX_LOGO_BYTES = 512 * 1024
#: The most pixels a clinic logo may have (4096 x 4096): a small file can unpack to
#: gigabytes, so the header's size is checked before anything is decoded.
MAX_LOGO_PIXELS = 4096 * 4096
#: Seconds one render may take, by default.
RENDER_SECONDS = 60.0


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise RenderTimeoutError after ``seconds`` of wall time (main thread only)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise RenderTimeoutError(f"render time limit of {seconds:g} s exceeded")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
