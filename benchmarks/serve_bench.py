"""Load benchmark of ``dn-docs serve``: POST /v1/documents at 1, 4 and 16 clients.

    .venv/bin/python benchmarks/serve_bench.py                 # 60 s each, writes BENCHMARKS.md
    .venv/bin/python benchmarks/serve_bench.py --seconds 10 --write ''   # a quick look

A real server (embedded: SQLite and one render process per core) on a throw-away data
folder; locust, headless, as the HTTP load generator. Each client waits for its PDF and
sends the next request at once. The figures go into BENCHMARKS.md's "HTTP service"
section, beside the batch figures, and the 16-client throughput is compared with the
warm batch's (the local pool row of the same file).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import measure_local, workload, write_input

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECTION = "## HTTP service (`dn-docs serve`)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [str(BIN / "dn-docs"), *args], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    env = {**os.environ, "DN_DOCS_DATA_DIR": str(folder / "data")}
    for name in ("DN_DOCS_DATABASE_URL", "DN_DOCS_BROKER_URL", "DN_DOCS_SECRET_KEY"):
        env.pop(name, None)
    cli(env, "db", "upgrade")
    clinic = cli(env, "clinics", "create", "--name", "Bench Clinic", "--country", "US")
    key = cli(env, "keys", "create", "--clinic", clinic)
    port = free_port()
    with (folder / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [str(BIN / "dn-docs"), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                return server, url, key
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


def run_load(url: str, key: str, clients: int, seconds: int, folder: Path) -> dict[str, Any]:
    prefix = folder / f"load-{clients}"
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(REPO / "benchmarks" / "locustfile.py"),
            "--headless",
            "--only-summary",
            "-u",
            str(clients),
            "-r",
            str(clients),
            "-t",
            f"{seconds}s",
            "--host",
            url,
            "--csv",
            str(prefix),
        ],
        env={**os.environ, "DN_DOCS_BENCH_KEY": key},
        check=False,
        capture_output=True,
    )
    with Path(f"{prefix}_stats.csv").open() as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    return {
        "clients": clients,
        "requests": int(row["Request Count"]),
        "errors": int(row["Failure Count"]),
        "rate": float(row["Requests/s"]),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "p99": float(row["99%"]),
    }


def warm_batch_rate(benchmarks: Path) -> float | None:
    """docs/s of the local pool in the batch figures."""
    if not benchmarks.exists():
        return None
    match = re.search(
        r"\| \(c\) batch, local pool of \d+ \|[^|]*\|[^|]*\| ([\d.]+) \|", benchmarks.read_text()
    )
    return float(match.group(1)) if match else None


def section(
    results: list[dict[str, Any]], seconds: int, batch_rate: float | None, same_run: float
) -> str:
    cores = os.cpu_count() or 1
    lines = [
        SECTION,
        "",
        f"Run {dt.date.today().isoformat()}: `dn-docs serve` embedded (SQLite, {cores} render "
        f"processes) on {cores} cores, locust as the load generator on the same machine; "
        f"each client posts the batch benchmark's workload to `POST /v1/documents` and waits "
        f"for the PDF, {seconds} s per row. Command: `.venv/bin/python benchmarks/serve_bench.py` "
        "(part of `bash scripts/run.sh bench`).",
        "",
        "| clients | requests | errors | docs/s | p50 ms | p95 ms | p99 ms |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['clients']} | {r['requests']} | {r['errors']} | {r['rate']:.2f} | "
            f"{r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} |"
        )
    top = results[-1]
    lines.append("")
    verdict = (
        f"- {top['clients']} clients: {top['errors']} errors (target 0), p95 {top['p95'] / 1000:.2f} s "
        "(target at most 1.5 s)"
    )
    if batch_rate:
        verdict += (
            f", {top['rate']:.2f} docs/s = **{top['rate'] / batch_rate:.0%}** of the warm batch's "
            f"{batch_rate:.2f} docs/s above (target at least 80%)"
        )
    lines.append(verdict)
    lines.append(
        f"- the local pool's batch of the same workload in this run, before and after the load: "
        f"{same_run:.2f} docs/s, so {top['clients']} clients get **{top['rate'] / same_run:.0%}** of it"
    )
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    previous = path.read_text() if path.exists() else "# Benchmarks\n"
    start = previous.find(SECTION)
    if start != -1:
        end = previous.find("\n## ", start + len(SECTION))
        previous = previous[:start] + (previous[end + 1 :] if end != -1 else "")
    notes = previous.find("\n## ")
    at = notes + 1 if notes != -1 else len(previous)
    path.write_text(previous[:at] + text + "\n" + previous[at:])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", default="1,4,16", help="comma-separated client counts")
    parser.add_argument("--seconds", type=int, default=60, help="seconds of load per count")
    parser.add_argument(
        "--batch-docs", type=int, default=200, help="documents in the batch compared"
    )
    parser.add_argument(
        "--write", default=str(REPO / "BENCHMARKS.md"), help="file to update ('' for none)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dn-docs-serve-bench-") as tmp:
        folder = Path(tmp)
        server, url, key = start_server(folder)
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
                http.put(
                    "/v1/clinic",
                    json={
                        "clinic": {
                            "name": "Bench Clinic",
                            "phone": "+1 555 0100",
                            "country": "US",
                            "language": "en",
                        }
                    },
                )
            run_load(url, key, 4, 10, folder)  # warm the server and its render processes
            source = write_input(workload(args.batch_docs), folder)
            cores = os.cpu_count() or 1
            # The warm batch of the same run, before and after the load: this machine's
            # speed moves from one run to the next.
            batch_rates = [measure_local(source, folder, cores, 1)]
            results = []
            for clients in (int(c) for c in args.clients.split(",")):
                results.append(run_load(url, key, clients, args.seconds, folder))
                print(results[-1], flush=True)
            batch_rates.append(measure_local(source, folder, cores, 2))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
    same_run = sum(batch_rates) / len(batch_rates)
    text = section(results, args.seconds, warm_batch_rate(REPO / "BENCHMARKS.md"), same_run)
    print(text)
    if args.write:
        write(Path(args.write), text)
        print(f"written to {args.write}")


if __name__ == "__main__":
    main()
