"""One batch per output folder at a time.

Two batches writing to one folder would each report success while the second
replaced the first's documents. A batch holds an exclusive lock on a file in its
output folder while it runs; the lock goes with the process, however it ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputBusyError
from ..storage import inside, open_no_follow

LOCK_FILE = ".dn-docs-batch.lock"


@contextmanager
def output_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s batch lock; OutputBusyError at once if another batch has it."""
    descriptor = open_no_follow(inside(folder, LOCK_FILE), os.O_RDWR | os.O_CREAT)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
            raise OutputBusyError(
                f"{folder}: another dn-docs batch"
                + (f" (process {holder})" if holder.isdigit() else "")
                + " is writing to this folder; wait for it to finish or choose another --out"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(descriptor)


def is_locked(folder: Path) -> bool:
    """Whether a batch holds ``folder``'s lock now."""
    path = folder / LOCK_FILE
    if not path.is_file():
        return False
    with contextlib.suppress(OSError):
        descriptor = open_no_follow(path)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(descriptor)
    return True
