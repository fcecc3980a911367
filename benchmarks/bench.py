"""dn-docs benchmark: plain WeasyPrint against dn-docs, one at a time and in batches.

    bash scripts/run.sh bench              # everything, writes BENCHMARKS.md
    .venv/bin/python benchmarks/bench.py --docs 60 --soak 0   # a quicker run

All figures come from one run, measured interleaved where two things are compared,
and are reported as ratios to plain WeasyPrint (a) on the same workload.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import weasyprint

import dn_docs
from dn_docs.batch import CeleryDispatcher, LocalDispatcher, run_batch
from dn_docs.examples import example_request
from dn_docs.pdf import default_renderer

REPO = Path(__file__).resolve().parent.parent
#: Python's own collector thresholds. dn-docs raises them after warm-up; plain WeasyPrint
#: (a) is timed with these, as it runs in a process of its own.
PYTHON_GC_THRESHOLD = (700, 10, 10)
AREAS = [
    "neck",
    "upper_back",
    "shoulder",
    "lower_back",
    "gluteal",
    "hip",
    "thigh",
    "knee",
    "calf",
    "foot",
    "forearm_wrist",
    "hand",
    "chest",
    "arm",
    "head_jaw",
]
CONDITIONS = [
    None,
    "neck_pain",
    "lower_back_pain",
    "shoulder_pain",
    "tension_headache",
    "plantar_fasciitis",
    "myofascial_pain",
    "sciatica",
    "carpal_tunnel",
    "radiculopathy",
]
FIRST = [
    "Ana",
    "Ben",
    "Chloe",
    "Diego",
    "Ella",
    "Farid",
    "Grace",
    "Hugo",
    "Iris",
    "Jonas",
    "Kemal",
    "Lucia",
    "Mateo",
    "Nina",
    "Omar",
    "Paula",
    "Quinn",
    "Rosa",
    "Sami",
    "Tomas",
]
LAST = [
    "Garcia",
    "Smith",
    "Nguyen",
    "Okafor",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Chen",
    "Silva",
    "Johnson",
    "Moreau",
    "Schmidt",
    "Tanaka",
    "Kim",
    "Novak",
    "Lopez",
    "Brown",
    "Ivanova",
]


WORKLOAD_LANGUAGES = ["en", "es", "ar", "zh_Hans"]


def workload(count: int, seed: int = 7, first: int = 0) -> list[dict[str, Any]]:
    """A clinic's week: mostly English and Spanish, some Arabic and Chinese, both kinds.

    Patients are numbered from ``first``: weeks with different ``first`` share no patient.
    """
    rng = random.Random(seed)
    requests = []
    for number in range(first, first + count):
        locale = rng.choices(WORKLOAD_LANGUAGES, weights=[45, 35, 10, 10])[0]
        kind = rng.choice(["consent", "aftercare"])
        data = example_request(locale, kind, number)
        data["patient"]["name"] = f"{rng.choice(FIRST)} {rng.choice(LAST)} {number}"
        data["patient"]["id"] = f"P-{number:05d}"
        data["session"]["areas"] = rng.sample(AREAS, rng.randint(1, 3))
        condition = rng.choice(CONDITIONS)
        data["session"].pop("condition", None)
        if condition:
            data["session"]["condition"] = condition
        data["session"]["electrical_stimulation"] = rng.random() < 0.2
        for answer in ("pregnant", "blood_thinners", "immunocompromised", "lymphedema"):
            data["screening"][answer] = rng.random() < 0.08
        requests.append(data)
    return requests


def standalone_html(request: dict[str, Any]) -> str:
    """dn-docs' HTML with its stylesheet inlined, as a plain WeasyPrint user would render it."""
    return dn_docs.render_html(request)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_one_at_a_time(requests: list[dict[str, Any]]) -> dict[str, Any]:
    """(a) plain WeasyPrint, fresh each time, and (b) warm render_pdf, interleaved."""
    dn_docs.warm_up()  # what a worker does when it starts: fonts, stylesheet, templates
    weasyprint.HTML(string=standalone_html(requests[0])).write_pdf()
    plain, warm, sizes = [], [], []
    caches = default_renderer().caches
    counters = (
        caches.lines.reuse,
        caches.sections.reuse,
        caches.drawing.reuse,
        caches.styles.reuse,
        caches.parsing.reuse,
        caches.cascade.reuse,
    )
    before = [(counter.hits, counter.misses) for counter in counters]
    tuned = gc.get_threshold()
    for request in requests:
        html = standalone_html(request)
        gc.set_threshold(*PYTHON_GC_THRESHOLD)  # as a plain WeasyPrint process runs
        started = time.perf_counter()
        weasyprint.HTML(string=html).write_pdf()
        plain.append(time.perf_counter() - started)
        gc.set_threshold(*tuned)
        started = time.perf_counter()
        pdf = dn_docs.render_pdf(request)
        warm.append(time.perf_counter() - started)
        sizes.append(len(pdf))
    reused = [
        (counter.hits - hits) / max(1, counter.hits - hits + counter.misses - misses)
        for counter, (hits, misses) in zip(counters, before, strict=True)
    ]
    return {
        "plain": plain,
        "warm": warm,
        "bytes": statistics.mean(sizes),
        "lines_reused": reused[0],
        "sections_reused": reused[1],
        "drawn_reused": reused[2],
        "styles_reused": reused[3],
        "parsed_reused": reused[4],
        "cascade_reused": reused[5],
    }


def measure_script_ratio() -> dict[str, float]:
    """The same document in en, ar and zh_Hans, interleaved."""
    base = example_request("en", "consent", 1)
    times: dict[str, list[float]] = {"en": [], "ar": [], "zh_Hans": []}
    for locale in times:
        dn_docs.render_pdf({**base, "locale": locale})
    for _ in range(8):
        for locale in times:
            started = time.perf_counter()
            dn_docs.render_pdf({**base, "locale": locale})
            times[locale].append(time.perf_counter() - started)
    en = statistics.median(times["en"])
    return {locale: statistics.median(values) / en for locale, values in times.items()}


def write_input(requests: list[dict[str, Any]], folder: Path, path: Path | None = None) -> Path:
    path = path or folder / "week.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in requests) + "\n")
    return path


def measure_local(source: Path, folder: Path, workers: int, attempt: int = 1) -> float:
    started = time.perf_counter()
    out = folder / f"local-{workers}-{attempt}"
    summary = run_batch(source, out, LocalDispatcher(workers=workers))
    assert summary.failed == 0 and summary.done > 0, summary
    return summary.done / (time.perf_counter() - started)


@contextlib.contextmanager
def celery_worker(
    processes: int, broker: str, folder: Path
) -> Iterator[tuple[CeleryDispatcher, Callable[[], float]]]:
    """A ``celery -A worker worker`` with ``processes`` render processes, on a queue of its
    own, warmed up; yields a dispatcher for that queue and a function that returns the
    CPU seconds its render processes have used."""
    from worker import create_app

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    log = folder / f"worker-{processes}.log"
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "worker",
            "worker",
            "-Q",
            queue,
            f"--concurrency={processes}",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            f"--logfile={log}",
            "-n",
            f"{queue}@%h",
        ],
        cwd=REPO,
        # As a clinic network would set it: the workload's languages are laid out once
        # in each process when it starts, before the timed jobs.
        env={
            **os.environ,
            "DN_DOCS_BROKER_URL": broker,
            "DN_DOCS_WARM_LANGUAGES": ",".join(WORKLOAD_LANGUAGES),
            # No process is replaced, and warmed up again, inside a timed batch: that
            # would land in one worker's figure and not the other's. The soak measures
            # what replacing processes guards against.
            "DN_DOCS_MAX_TASKS_PER_CHILD": str(10**6),
            # The batches' output folders are in the benchmark's temporary folder.
            "DN_DOCS_OUTPUT_ROOT": str(folder),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while "ready." not in (log.read_text() if log.exists() else ""):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"the {processes}-process worker did not start; see {log}")
            time.sleep(0.2)
        dispatcher = CeleryDispatcher(create_app(broker), queue=queue)
        # Every render process takes a job, so start-up is not counted as rendering.
        warm = folder / f"warm-{processes}.jsonl"
        write_input(workload(processes, seed=1, first=10**6), folder, warm)
        run_batch(warm, folder / f"warm-{processes}", dispatcher)
        yield dispatcher, partial(children_cpu_seconds, worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def children_cpu_seconds(pid: int) -> float:
    """CPU seconds used by the living child processes of ``pid`` (Linux)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    total = 0
    for child in children:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def measure_celery(folder: Path, docs: int, broker: str, rounds: int) -> dict[str, Any]:
    """Docs/s of one worker with 1 and one with 2 render processes, over ``rounds`` batches
    each; the ratio of each round; the share of each batch's time its render processes
    were on a CPU.

    Both workers run the whole time and take turns, one batch each per round, first one
    then the other, so both meet the same moments of a shared machine; each figure is
    all its documents over all its batches' time. Each round is a new week of patients,
    the same for both.
    """
    seconds = {1: 0.0, 2: 0.0}
    cpu = {1: 0.0, 2: 0.0}
    ratios = []
    with celery_worker(1, broker, folder) as one, celery_worker(2, broker, folder) as two:
        for number in range(rounds):
            week = write_input(
                workload(docs, first=(number + 1) * 10**5), folder, folder / f"week-{number}.jsonl"
            )
            took = {}
            # Every other round the 2-process worker goes first, so a machine that
            # slows down or speeds up over the run favours neither.
            turns = ((1, one), (2, two)) if number % 2 == 0 else ((2, two), (1, one))
            for processes, (dispatcher, used) in turns:
                before, started = used(), time.perf_counter()
                summary = run_batch(week, folder / f"celery-{processes}-{number}", dispatcher)
                took[processes] = time.perf_counter() - started
                assert summary.failed == 0 and summary.done == docs, summary
                seconds[processes] += took[processes]
                cpu[processes] += used() - before
            ratios.append(took[1] / took[2])
            print(
                f"celery round {number + 1}: {docs / took[1]:.2f} and {docs / took[2]:.2f} docs/s, "
                f"{ratios[-1]:.2f}x",
                flush=True,
            )
    return {
        "rates": {processes: rounds * docs / total for processes, total in seconds.items()},
        "ratios": ratios,
        "busy": {processes: cpu[processes] / (processes * seconds[processes]) for processes in cpu},
    }


def measure_soak(renders: int) -> tuple[float, float]:
    """RSS (MiB) after render 200 and after the last render, in one process.

    Every render is a different patient, so nothing kept between renders (such as the
    reused line breaks) can hide growth.
    """
    requests = workload(renders, seed=11)
    at_200 = 0.0
    for number, request in enumerate(requests, start=1):
        dn_docs.render_pdf(request)
        if number == 200:
            gc.collect()
            at_200 = _current_rss()
    gc.collect()
    return at_200, _current_rss()


def _current_rss() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_cold_cli(folder: Path, runs: int = 3) -> float:
    """Wall time of ``dn-docs render`` in a new process: the median of ``runs``."""
    request = folder / "one.json"
    request.write_text(json.dumps(example_request("en", "consent", 3)))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [
                str(Path(sys.executable).with_name("dn-docs")),
                "render",
                str(request),
                "-o",
                str(folder / f"one-{len(times)}.pdf"),
            ],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def better_of_two(passes: dict[str, Callable[[int], float | None]]) -> dict[str, float | None]:
    """Run every measurement twice, interleaved, and keep the higher rate of each.

    On a shared machine a neighbour's burst can only slow a pass down.
    """
    best: dict[str, float | None] = dict.fromkeys(passes)
    for attempt in (1, 2):
        for name, measure in passes.items():
            rate = measure(attempt)
            best[name] = max(rate or 0.0, best[name] or 0.0) or None
    return best


def _spin(_: int) -> float:
    started = time.perf_counter()
    total = 0
    for number in range(6_000_000):
        total += number * number
    return time.perf_counter() - started


def measure_machine_scaling(cores: int) -> float:
    """Throughput of ``cores`` CPU-bound Python processes against one, best of three.

    No rendering, no broker: this is the most a second worker process could add here.
    """
    import multiprocessing

    best = 0.0
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        for _ in range(3):
            alone = pool.apply(_spin, (0,))
            together = pool.map(_spin, range(cores), chunksize=1)
            best = max(best, cores * alone / max(together))
    return best


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=200, help="documents in the batch workload")
    parser.add_argument("--single", type=int, default=60, help="documents for one-at-a-time timing")
    parser.add_argument(
        "--soak", type=int, default=2000, help="renders for the memory check (0: skip)"
    )
    parser.add_argument(
        "--broker", default=os.environ.get("DN_DOCS_BENCH_BROKER", "redis://127.0.0.1:6379/14")
    )
    parser.add_argument(
        "--rounds", type=int, default=8, help="batches each Celery worker runs, taking turns"
    )
    parser.add_argument("--write", type=Path, default=REPO / "BENCHMARKS.md")
    args = parser.parse_args()

    requests = workload(args.docs)
    cores = os.cpu_count() or 1
    results: dict[str, Any] = {}
    print(f"machine: {machine()}", flush=True)

    one = measure_one_at_a_time(requests[: args.single])
    plain_p50 = statistics.median(one["plain"])
    plain_rate = 1 / statistics.mean(one["plain"])
    results["plain"] = (plain_p50, percentile(one["plain"], 0.95), plain_rate)
    results["warm"] = (
        statistics.median(one["warm"]),
        percentile(one["warm"], 0.95),
        1 / statistics.mean(one["warm"]),
    )
    print(f"one at a time done ({args.single} docs)", flush=True)

    scripts = measure_script_ratio()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = write_input(requests, folder)
        results |= better_of_two(
            {
                "local": lambda attempt: measure_local(source, folder, cores, attempt),
                "local1": lambda attempt: measure_local(source, folder, 1, attempt),
            }
        )
        print("local pool done", flush=True)
        celery: dict[str, Any] = {}
        try:
            import redis

            redis.Redis.from_url(args.broker).ping()
            celery = measure_celery(folder, args.docs, args.broker, args.rounds)
            results["celery1"], results["celery2"] = celery["rates"][1], celery["rates"][2]
        except Exception as exc:
            print(f"celery skipped: {exc}", flush=True)
            results["celery1"] = results["celery2"] = None
        print("celery done", flush=True)
        cold = measure_cold_cli(folder)
    scaling = measure_machine_scaling(cores)
    soak = measure_soak(args.soak) if args.soak else None
    peak = rss_mib()

    rows = [
        (
            "(a) plain WeasyPrint, fresh each time",
            f"{results['plain'][0] * 1000:.0f}",
            f"{results['plain'][1] * 1000:.0f}",
            plain_rate,
            plain_rate,
            1.0,
        ),
        (
            "(b) dn-docs render_pdf, warm",
            f"{results['warm'][0] * 1000:.0f}",
            f"{results['warm'][1] * 1000:.0f}",
            results["warm"][2],
            results["warm"][2],
            results["warm"][2] / plain_rate,
        ),
        (
            f"(c) batch, local pool of {cores}",
            "",
            "",
            results["local"],
            results["local"] / cores,
            results["local"] / cores / plain_rate,
        ),
        (
            "(c) batch, local, 1 process",
            "",
            "",
            results["local1"],
            results["local1"],
            results["local1"] / plain_rate,
        ),
    ]
    for processes in (1, 2):
        rate = results[f"celery{processes}"]
        if rate:
            rows.append(
                (
                    f"(d) batch, Celery + Redis, {processes} worker process{'es' if processes > 1 else ''}",
                    "",
                    "",
                    rate,
                    rate / processes,
                    rate / processes / plain_rate,
                )
            )
    lines = [
        "# Benchmarks",
        "",
        f"Run {dt.date.today().isoformat()} on {machine()}.",
        f"Workload: {args.docs} requests shaped like a clinic's week (45% en, 35% es, 10% ar, 10% zh_Hans; consent and aftercare; every patient different). "
        f"One-at-a-time figures from the first {args.single}, (a) and (b) interleaved; local batch figures are the better of two interleaved passes; Celery figures are over {args.rounds} batches each (a new week of patients each round) of a 1-process and a 2-process worker, started once and taking turns, the 2-process worker first in every other round. Command: `bash scripts/run.sh bench`.",
        "",
        "| path | ms/doc p50 | ms/doc p95 | docs/s | docs/s per core | per core vs (a) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, p50, p95, rate, per_core, ratio in rows:
        lines.append(f"| {name} | {p50} | {p95} | {rate:.2f} | {per_core:.2f} | {ratio:.2f}x |")
    warm_ratio = results["warm"][0] / results["plain"][0]
    lines += [
        "",
        f"- one-at-a-time `render_pdf` p50: **{warm_ratio:.2f}x** plain WeasyPrint's p50 (target: at most 0.8x)",
        f"- batch docs/s per core: **{results['local'] / cores / plain_rate:.2f}x** plain with the local pool, "
        f"**{results['local1'] / plain_rate:.2f}x** in one process (target: at least 3x)",
    ]
    if results["celery1"] and results["celery2"]:
        lines.append(
            f"- 2 worker processes vs 1: **{results['celery2'] / results['celery1']:.2f}x** throughput over {args.rounds} batches each (target: at least 1.9x); "
            f"round by round: {', '.join(f'{ratio:.2f}x' for ratio in celery['ratios'])}; "
            f"render processes on a CPU {celery['busy'][1]:.0%} (1) and {celery['busy'][2]:.0%} (2) of their batches' time, "
            f"so at equal CPU speed 2 processes give {2 * celery['busy'][2] / celery['busy'][1]:.2f}x 1; "
            f"the same pure-Python loop in {cores} processes against 1 gives {scaling:.2f}x on this machine"
        )
    lines.append(
        f"- same consent in ar: **{scripts['ar']:.2f}x** the en time, zh_Hans: **{scripts['zh_Hans']:.2f}x** (target: at most 1.5x)"
    )
    lines.append(
        f"- `dn-docs render` of one document from a cold process: **{cold:.2f} s** wall, the median of three (target: under 2 s)"
    )
    if soak:
        growth = (soak[1] - soak[0]) / soak[0]
        lines.append(
            f"- RSS after render 200: {soak[0]:.0f} MiB, after render {args.soak}: {soak[1]:.0f} MiB: **{growth:+.1%}** (target: under 10%)"
        )
    lines.append(
        f"- bytes per PDF (mean, PDF/A-3u with embedded font subsets): {one['bytes'] / 1024:.0f} KiB; peak RSS of this process: {peak:.0f} MiB"
    )
    lines.append(
        f"- line breaks in (b) found already made for an earlier document: {one['lines_reused']:.0%}; "
        f"sections placed from an earlier layout: {one['sections_reused']:.0%}; "
        f"lines drawn again from an earlier document's operators: {one['drawn_reused']:.0%}; "
        f"styles computed for an earlier document: {one['styles_reused']:.0%}; "
        f"sections parsed for an earlier document: {one['parsed_reused']:.0%}; "
        f"sections whose styles were handed out again: {one['cascade_reused']:.0%}"
    )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        # Keep the hand-written reading of the figures that follows them.
        previous = args.write.read_text() if args.write.exists() else ""
        notes = previous.find("\n## ")
        args.write.write_text(text + (previous[notes:] if notes != -1 else ""))
        print(f"written to {args.write}")


if __name__ == "__main__":
    main()
