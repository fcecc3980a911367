"""A whole batch: validate every row, skip what is done, dispatch, record, print stacks."""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..storage import ensure_dir, inside
from .dispatch import Dispatcher
from .inputs import InputOptions, Job, Plan, plan
from .interrupt import Interruption, signals_stop
from .jobs import WITHDRAWN, payload
from .lock import output_lock
from .outputs import (
    ERRORS,
    MANIFEST,
    PACKETS,
    RESUMED_PACKETS,
    DamagedManifestError,
    Entry,
    Manifest,
    PrintStacks,
    Stack,
    packet_order,
    write_errors,
)
from .references import FileRequestStore

#: How often, at most, the manifest is rewritten while a batch runs.
MANIFEST_SAVE_SECONDS = 1.0
#: The print stacks a batch can make: ``packets`` (packets.pdf, each patient's documents
#: together, and after --resume packets-resumed.pdf) and ``kinds`` (merged-<kind>.pdf).
STACKS = ("packets", "kinds")


@dataclass
class BatchSummary:
    total: int
    done: int
    failed: int
    skipped: int
    invalid_rows: int
    out_dir: Path
    #: Rows that hold a patient; each is rendered, refused, failed or (after a stop)
    #: not finished.
    rows: int = 0
    rows_rendered: int = 0
    rows_refused: int = 0
    rows_failed: int = 0
    rows_unfinished: int = 0
    blank_rows: int = 0
    note_rows: int = 0
    #: The signal that stopped the batch, if one did.
    interrupted: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.failed or self.invalid_rows or self.interrupted)

    def __str__(self) -> str:
        skipped = [
            f"{count} {what} row{'s' if count != 1 else ''}"
            for count, what in ((self.blank_rows, "blank"), (self.note_rows, "note"))
            if count
        ]
        rows = (
            f"{self.rows} rows: {self.rows_rendered} rendered, {self.rows_refused} refused, "
            f"{self.rows_failed} failed"
            + (f", {self.rows_unfinished} not finished" if self.rows_unfinished else "")
            + (f" ({' and '.join(skipped)} skipped)" if skipped else "")
        )
        documents = (
            f"{self.done} rendered, {self.skipped} already done, {self.failed} failed, "
            f"{self.invalid_rows} rows refused; see {self.out_dir / MANIFEST}"
            + (f" and {self.out_dir / ERRORS}" if self.failed or self.invalid_rows else "")
        )
        stopped = ""
        if self.interrupted:
            name = signal.Signals(self.interrupted).name
            stopped = (
                f"\nstopped by {name}: {self.total - self.done - self.failed} documents not "
                "rendered; run the same command with --resume to finish"
            )
        return f"{rows}\ndocuments: {documents}{stopped}"


def _previous(folder: Path, warn: Callable[[str], None]) -> Manifest:
    try:
        return Manifest.load(folder)
    except DamagedManifestError:
        rebuilt = Manifest.rebuild(folder)
        warn(
            f"{MANIFEST} was damaged; rebuilt from {len(rebuilt.entries)} consents' own "
            "records (other documents are rendered again)"
        )
        return rebuilt


def _stacks(
    chosen: Collection[str], manifest: Manifest, jobs: list[Job], this_run: set[str], resume: bool
) -> list[Stack]:
    entries = manifest.ordered()
    stacks = PrintStacks.by_kind(entries) if "kinds" in chosen else []
    if "packets" in chosen:
        packets = packet_order(entries, {job.file_name: job.appointment for job in jobs})
        stacks.append(Stack(PACKETS, packets, pad=True))
        if resume:
            fresh = [entry for entry in packets if entry.file in this_run]
            stacks.append(Stack(RESUMED_PACKETS, fresh, pad=True))
    return stacks


def _count_rows(summary: BatchSummary, planned: Plan, entries: list[Entry]) -> None:
    statuses: dict[int, set[str]] = {}
    for entry in entries:
        statuses.setdefault(entry.row, set()).add(entry.status)
    refused = planned.refused_rows
    for row in planned.rows:
        status = statuses.get(row, set())
        if row in refused:
            summary.rows_refused += 1
        elif "failed" in status:
            summary.rows_failed += 1
        elif "pending" in status:
            summary.rows_unfinished += 1
        else:
            summary.rows_rendered += 1
    summary.rows = len(planned.rows)
    summary.blank_rows, summary.note_rows = planned.blank_rows, planned.note_rows


def run_batch(
    input_path: Path,
    out_dir: Path,
    dispatcher: Dispatcher,
    defaults: dict[str, Any] | None = None,
    resume: bool = False,
    on_progress: Callable[[int, int, int], None] | None = None,
    generated_at: dt.datetime | None = None,
    options: InputOptions | None = None,
    stacks: Collection[str] = STACKS,
    stop: Interruption | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> BatchSummary:
    """Render every valid row of ``input_path`` into ``out_dir``.

    ``on_progress(done, failed, total)`` is called as documents finish. Every consent
    of the batch records the same generation time (``generated_at``, default now).
    SIGINT and SIGTERM (in the main thread) or ``stop`` end the batch early, with
    every finished document recorded.
    """
    when = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
    stop = stop or Interruption()
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        if on_warning:
            on_warning(message)

    folder = ensure_dir(out_dir).resolve()
    with output_lock(folder), signals_stop(stop):
        planned = plan(input_path, defaults, options)
        for message in planned.warnings:
            warn(message)
        previous = _previous(folder, warn) if resume else Manifest(folder)
        manifest = Manifest(folder)
        jobs: dict[str, Job] = {}
        skipped = 0
        for job in planned.jobs:
            if resume and previous.is_done(job):
                manifest.entries[job.file_name] = previous.entries[job.file_name]
                skipped += 1
            else:
                manifest.track(job)
                jobs[job.file_name] = job
        manifest.save()
        # A stack of what an earlier run rendered must not pass for this run's.
        inside(folder, RESUMED_PACKETS).unlink(missing_ok=True)
        store = FileRequestStore.open(folder) if dispatcher.by_reference else None
        try:
            todo = {
                name: payload(job, folder, when, store.put(name, job.request) if store else None)
                for name, job in jobs.items()
            }
            if store is not None:
                stop.on_withdraw(store.withdraw)
            counts = {"done": 0, "failed": 0}
            total = len(todo)
            chosen = _stacks(stacks, manifest, planned.jobs, set(todo), resume)
            with PrintStacks(folder, chosen) as printing:
                last_save = time.monotonic()

                def on_result(key: str, result: dict[str, Any]) -> None:
                    nonlocal last_save
                    if result.get("status") == WITHDRAWN:
                        return  # stopped before it started: left for --resume
                    entry = manifest.record(key, result)
                    if store is not None:
                        store.discard(key)
                    counts["done" if entry.status == "done" else "failed"] += 1
                    printing.add(entry)
                    # Rewriting the whole manifest after every document costs more than
                    # rendering in a large batch. A document finished since the last save
                    # is only rendered again by --resume: its file's hash is checked
                    # before anything is skipped.
                    if time.monotonic() - last_save >= MANIFEST_SAVE_SECONDS:
                        manifest.save()
                        last_save = time.monotonic()
                    if on_progress:
                        on_progress(counts["done"], counts["failed"], total)

                if on_progress:
                    on_progress(0, 0, total)
                try:
                    dispatcher.run(todo, on_result, stop)
                finally:
                    manifest.save()
                    entries = manifest.ordered()
                    failed = [e for e in entries if e.status == "failed"]
                    write_errors(folder, planned.errors, failed)
                    printing.write()
        finally:
            if store is not None:
                store.close()
    summary = BatchSummary(
        total,
        counts["done"],
        len(failed),
        skipped,
        len(planned.refused_rows),
        folder,
        interrupted=stop.signal if stop.is_set() else None,
        warnings=warnings,
    )
    _count_rows(summary, planned, entries)
    return summary
