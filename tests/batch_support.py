"""Real Redis servers and real Celery worker processes for the batch tests."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))

HEADER = [
    "kind",
    "locale",
    "patient.name",
    "patient.date_of_birth",
    "patient.id",
    "session.date",
    "session.areas",
    "session.condition",
    "session.electrical_stimulation",
    "screening.local_infection",
    "screening.needle_phobia",
    "screening.able_to_consent",
    "screening.pregnant",
    "screening.immunocompromised",
    "screening.lymphedema",
    "screening.pacemaker_or_implant",
    "screening.blood_thinners",
    "screening.bleeding_disorder",
]
LOCALES = ["en", "es", "en", "es", "ar", "zh_Hans", "en", "es", "fr", "ru"]
AREAS = [
    "neck;upper_back",
    "gluteal;lower_back",
    "knee",
    "forearm_wrist;hand",
    "shoulder",
    "calf;foot",
]
CONDITIONS = ["", "sciatica", "neck_pain", "carpal_tunnel", "", "plantar_fasciitis"]


def clinic_defaults() -> dict[str, Any]:
    return {
        "clinic": {
            "name": "Harbour Physio",
            "phone": "+44 20 7946 0000",
            "country": "GB",
            "language": "en",
        },
        "practitioner": {"name": "Alex Morgan", "credentials": "MCSP"},
    }


def write_batch(
    path: Path,
    rows: int,
    invalid_every: int = 0,
    kinds_every: int = 3,
    locales: list[str] = LOCALES,
) -> tuple[int, int]:
    """A mixed batch; returns (documents expected, rows refused)."""
    expected = refused = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            kind = (
                "consent;aftercare"
                if i % kinds_every == 0
                else ("aftercare" if i % 2 else "consent")
            )
            born = f"{1940 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}"
            areas, condition = AREAS[i % len(AREAS)], CONDITIONS[i % len(CONDITIONS)]
            row = [
                kind,
                locales[i % len(locales)],
                f"Patient Number {i}",
                born,
                f"ID-{i}",
                "2026-12-01",
                areas,
                condition,
                "yes" if i % 5 == 0 else "no",
                "no",
                "no",
                "yes",
                "yes" if i % 7 == 0 else "no",
                "no",
                "no",
                "no",
                "yes" if i % 4 == 0 else "no",
                "no",
            ]
            if invalid_every and i % invalid_every == invalid_every - 1:
                row[6] = "neck;elbowz"  # unknown area
                refused += 1
            else:
                expected += kind.count(";") + 1
            writer.writerow(row)
    return expected, refused


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A throw-away redis-server of our own, for tests that stop and restart it."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait()
            self.process = None


class Workers:
    """Real ``celery -A worker worker`` processes, one process group each."""

    def __init__(self, broker: str, logs: Path, **env: str) -> None:
        self.broker = broker
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.logs = logs
        self.env = {
            **os.environ,
            "DN_DOCS_BROKER_URL": broker,
            "DN_DOCS_VISIBILITY_TIMEOUT": "5",
            # Each test's outputs are in its own temporary folder, next to the logs.
            "DN_DOCS_OUTPUT_ROOT": str(logs.parent),
            **env,
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int = 1, concurrency: int = 1) -> None:
        for _ in range(count):
            number = len(self.processes)
            log = self.logs / f"worker-{number}.log"
            self.processes.append(
                subprocess.Popen(
                    [
                        CELERY,
                        "-A",
                        "worker",
                        "worker",
                        "-Q",
                        self.queue,
                        "-n",
                        f"w{number}-{self.queue}@%h",
                        f"--concurrency={concurrency}",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                        "--loglevel=INFO",
                        f"--logfile={log}",
                    ],
                    cwd=REPO,
                    env=self.env,
                    start_new_session=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = [p for p in range(len(self.processes)) if "ready." in self.log(p)]
            if len(ready) == len(self.processes):
                return
            time.sleep(0.2)
        raise RuntimeError("celery workers did not become ready")

    def dispatcher(self, **options: Any) -> Any:
        """A dispatcher that sends to these workers' queue."""
        from dn_docs.batch import CeleryDispatcher
        from worker import create_app

        return CeleryDispatcher(create_app(self.broker), queue=self.queue, **options)

    def log(self, number: int) -> str:
        path = self.logs / f"worker-{number}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, number: int) -> None:
        os.killpg(self.processes[number].pid, signal.SIGKILL)
        self.processes[number].wait()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
