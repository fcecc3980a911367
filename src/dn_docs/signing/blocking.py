"""Running pyHanko's coroutines from ordinary, blocking code.

pyHanko signs and validates in coroutines. Where this thread already runs an event
loop (an async web handler), the coroutine runs to its end on a loop of its own in
a helper thread instead, so callers of either kind can use the same functions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as helper:
        return helper.submit(asyncio.run, coroutine).result()
