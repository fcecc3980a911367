"""Real ``dn-docs serve`` processes, throw-away PostgreSQL databases and clusters, and
the requests the service tests send."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from batch_support import free_port, write_batch

DN_DOCS = str(Path(sys.executable).with_name("dn-docs"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
#: The shared Redis's database these tests use (``DN_DOCS_TEST_REDIS_DB``).
REDIS_DB = int(os.environ.get("DN_DOCS_TEST_REDIS_DB", "15"))
SHARED_REDIS = f"redis://127.0.0.1:6379/{REDIS_DB}"
SECRET = "test-secret-key-" + "x" * 24

#: The patient data of the requests below: none of it may appear in a log, the audit
#: log, a queue message or a URL.
PATIENT = {"name": "Þórdís Quennell-Vasquez", "date_of_birth": "1979-03-14", "id": "MRN-557731"}


def document_body(**changes: Any) -> dict[str, Any]:
    """A consent request that leaves the clinic's details to its profile."""
    body: dict[str, Any] = {
        "kind": "consent",
        "locale": "en",
        "patient": dict(PATIENT),
        "session": {"date": "2026-11-23", "areas": ["neck", "upper_back"]},
        "screening": {
            "local_infection": False,
            "needle_phobia": False,
            "able_to_consent": True,
            "pregnant": False,
            "immunocompromised": False,
            "lymphedema": False,
            "pacemaker_or_implant": False,
            "blood_thinners": True,
            "bleeding_disorder": False,
        },
    }
    body.update(changes)
    return body


PROFILE = {
    "clinic": {
        "name": "Harbour Physio",
        "address": "1 Quay Street, Bristol",
        "phone": "+44 20 7946 0000",
        "country": "GB",
        "language": "en",
    },
    "practitioners": [{"name": "Alex Morgan", "credentials": "MCSP", "license": "PH-12345"}],
    "default_locale": "en",
}


class Server:
    """``dn-docs serve`` in a process group of its own, its output in ``log``."""

    def __init__(self, tmp: Path, **env: str) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.log = tmp / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "DN_DOCS_DATA_DIR": str(tmp / "data"),
            "DN_DOCS_RENDER_PROCESSES": "2",
            **env,
        }
        for name in ("DN_DOCS_BROKER_URL", "DN_DOCS_DATABASE_URL", "DN_DOCS_SECRET_KEY"):
            if name not in env:
                self.env.pop(name, None)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [DN_DOCS, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [DN_DOCS, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()[-3000:]
            try:
                if httpx.get(f"{self.url}/ready", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the server did not become ready:\n{self.output()[-3000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def new_clinic(self, name: str = "Harbour Physio", country: str = "GB") -> tuple[str, str]:
        """A clinic and an admin key of it."""
        clinic_id = self.cli("clinics", "create", "--name", name, "--country", country)
        return clinic_id, self.cli("keys", "create", "--clinic", clinic_id)

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=180)


def wait_for(client: httpx.Client, path: str, done: tuple[str, ...], seconds: float = 240) -> Any:
    """GET ``path`` until its status is one of ``done``; the last body."""
    deadline = time.monotonic() + seconds
    while True:
        body = client.get(path).json()
        if body["status"] in done or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


class PostgresDatabase:
    """A throw-away database on the shared PostgreSQL, dropped after."""

    def __init__(self) -> None:
        self.name = f"dn_docs_test_{uuid.uuid4().hex[:10]}"
        self.url = f"postgresql://postgres@127.0.0.1:5432/{self.name}"

    def create(self) -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()  # type: ignore[arg-type]


class PostgresCluster:
    """A private PostgreSQL cluster (initdb + pg_ctl) on a free port, which a test may stop."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        # The server runs as postgres, which cannot enter pytest's private tmp folders.
        self.folder = Path(f"/tmp/dn-docs-pg-{uuid.uuid4().hex[:8]}")
        self.data = self.folder / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/dn_docs"

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.folder.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )
        self.start()
        self._as_postgres(
            str(PG_BIN / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "dn_docs",
        )

    def start(self) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self.folder}"
        self._as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
        )

    def remove(self) -> None:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ]
            if os.geteuid() == 0
            else [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


class RedisMonitor:
    """Every command the shared Redis receives for the test database, as text (MONITOR)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        # No read timeout: a quiet Redis sends MONITOR nothing for a while.
        self.connection = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=None)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.stopping = False

    def _run(self) -> None:
        with self.connection.monitor() as monitor:
            for command in monitor.listen():
                if self.stopping:
                    return
                if command.get("db") == REDIS_DB:
                    self.lines.append(str(command.get("command", "")))

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping = True
        redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).ping()  # wakes the listener
        self.thread.join(timeout=10)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def xlsx_batch(path: Path, rows: int, invalid_every: int) -> tuple[bytes, int, int]:
    """The batch tests' mixed rows as a workbook, with real date and yes/no cells;
    returns the workbook, documents expected and rows refused."""
    from openpyxl import Workbook

    source = path.with_suffix(".csv")
    expected, refused = write_batch(source, rows, invalid_every=invalid_every)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    with source.open(encoding="utf-8") as handle:
        for number, record in enumerate(csv.reader(handle)):
            if number == 0:
                sheet.append(record)
                continue
            cells: list[Any] = []
            for value in record:
                if value in ("yes", "no"):
                    cells.append(value == "yes")
                elif len(value) == 10 and value[4] == "-" and value[7] == "-":
                    cells.append(dt.date.fromisoformat(value))
                else:
                    cells.append(value)
            sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), expected, refused


@contextmanager
def in_threads(count: int, call: Any) -> Iterator[list[Any]]:
    """Run ``call(i)`` in ``count`` threads at once; the results, in order, after the block."""
    results: list[Any] = [None] * count

    def run(number: int) -> None:
        try:
            results[number] = call(number)
        except BaseException as exc:  # reported by the test
            results[number] = exc

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    try:
        yield results
    finally:
        for thread in threads:
            thread.join(timeout=300)
