"""A whole batch: validate every row, skip what is done, dispatch, record, merge."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..storage import ensure_dir
from .dispatch import Dispatcher
from .inputs import plan
from .jobs import payload
from .outputs import ERRORS, MANIFEST, Manifest, PrintStacks, write_errors

#: How often, at most, the manifest is rewritten while a batch runs.
MANIFEST_SAVE_SECONDS = 1.0


@dataclass
class BatchSummary:
    total: int
    done: int
    failed: int
    skipped: int
    invalid_rows: int
    out_dir: Path

    @property
    def clean(self) -> bool:
        return not (self.failed or self.invalid_rows)

    def __str__(self) -> str:
        return (
            f"{self.done} rendered, {self.skipped} already done, {self.failed} failed, "
            f"{self.invalid_rows} rows refused; see {self.out_dir / MANIFEST}"
            + (f" and {self.out_dir / ERRORS}" if not self.clean else "")
        )


def run_batch(
    input_path: Path,
    out_dir: Path,
    dispatcher: Dispatcher,
    defaults: dict[str, Any] | None = None,
    resume: bool = False,
    on_progress: Callable[[int, int, int], None] | None = None,
    generated_at: dt.datetime | None = None,
) -> BatchSummary:
    """Render every valid row of ``input_path`` into ``out_dir``.

    ``on_progress(done, failed, total)`` is called as documents finish. Every consent
    of the batch records the same generation time (``generated_at``, default now).
    """
    when = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
    folder = ensure_dir(out_dir).resolve()
    jobs, row_errors = plan(input_path, defaults)
    previous = Manifest.load(folder) if resume else Manifest(folder)
    manifest = Manifest(folder)
    todo: dict[str, dict[str, Any]] = {}
    skipped = 0
    for job in jobs:
        if resume and previous.is_done(job):
            manifest.entries[job.file_name] = previous.entries[job.file_name]
            skipped += 1
        else:
            manifest.track(job)
            todo[job.file_name] = payload(job, folder, when)
    manifest.save()
    counts = {"done": 0, "failed": 0}
    total = len(todo)

    with PrintStacks(folder, manifest.ordered()) as stacks:
        last_save = time.monotonic()

        def on_result(key: str, result: dict[str, Any]) -> None:
            nonlocal last_save
            entry = manifest.record(key, result)
            counts["done" if entry.status == "done" else "failed"] += 1
            stacks.add(entry)
            # Rewriting the whole manifest after every document costs more than rendering
            # in a large batch. A document finished since the last save is only rendered
            # again by --resume: its file's hash is checked before anything is skipped.
            if time.monotonic() - last_save >= MANIFEST_SAVE_SECONDS:
                manifest.save()
                last_save = time.monotonic()
            if on_progress:
                on_progress(counts["done"], counts["failed"], total)

        if on_progress:
            on_progress(0, 0, total)
        try:
            dispatcher.run(todo, on_result)
        finally:
            manifest.save()
        entries = manifest.ordered()
        failed = [e for e in entries if e.status != "done"]
        write_errors(folder, row_errors, failed)
        stacks.write()
    invalid_rows = len({e.row for e in row_errors})
    return BatchSummary(total, counts["done"], len(failed), skipped, invalid_rows, folder)
