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

from dn_docs.request import Screening

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


# The same clinic day exported five ways ---------------------------------------------------

#: A German clinic: its yes/no are ja/nein, and every export's rows get the same defaults.
GERMAN_CLINIC = {
    "clinic": {
        "name": "Praxis am Markt",
        "phone": "+49 30 1234567",
        "country": "DE",
        "language": "de",
    },
    "practitioner": {"name": "Jana Weiß", "credentials": "PT"},
}
FIRST = ["José", "Zoë", "François", "Søren", "Agnès", "Björn", "Inès", "Mårten", "Łucja", "Ana"]
LAST = ["Núñez", "Müller", "Lefèvre", "Ødegaard", "Cœur", "Ståhl", "García", "Øberg"]
EXPORT_LOCALES = ["en", "es", "fr", "de", "pt_BR"]
SCREENING = list(Screening.model_fields)


def day_patients(count: int = 40) -> list[dict[str, Any]]:
    """``count`` patients of one clinic day, as plain values (dates and times as objects)."""
    import datetime as dt

    patients = []
    for i in range(count):
        # Łucja cannot be written in Windows-1252: her row uses a name that can.
        first = FIRST[i % len(FIRST)].replace("Ł", "L")
        patients.append(
            {
                "kind": "consent;aftercare",
                "locale": EXPORT_LOCALES[i % len(EXPORT_LOCALES)],
                "name": f"{first} {LAST[i % len(LAST)]} {i + 1}",
                "born": dt.date(1940 + i, 1 + i % 12, 1 + (i * 7) % 28),
                "id": f"P-{1000 + i}",
                "date": dt.date(2026, 12, 7),
                # Appointments out of row order, some rows without one.
                "time": None if i % 9 == 4 else dt.time(8 + (i * 7) % 10, (i * 15) % 60),
                "areas": AREAS[i % len(AREAS)],
                "condition": CONDITIONS[i % len(CONDITIONS)],
                "stimulation": i % 5 == 0,
                "screening": {
                    name: (name == "able_to_consent") or (i % 6 == 1 and name == "blood_thinners")
                    for name in SCREENING
                },
            }
        )
    return patients


LABELS = [
    "Kind",
    "Language",
    "Patient name",
    "Date of birth",
    "Patient ID",
    "Appointment date",
    "Appointment time",
    "Areas",
    "Condition",
    "Electrical stimulation",
    *(name.replace("_", " ").capitalize() for name in SCREENING),
]


def _cells(patient: dict[str, Any], date: Any, time: Any, yes_no: Any) -> list[Any]:
    return [
        patient["kind"],
        patient["locale"],
        patient["name"],
        date(patient["born"]),
        patient["id"],
        date(patient["date"]),
        time(patient["time"]) if patient["time"] else "",
        patient["areas"],
        patient["condition"],
        yes_no(patient["stimulation"]),
        *(yes_no(patient["screening"][name]) for name in SCREENING),
    ]


def export_xlsx(path: Path, patients: list[dict[str, Any]]) -> None:
    """A workbook as Excel saves it: typed date, time and true/false cells, extra columns,
    blank rows after the data."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append([*LABELS, "Phone", "Notes"])
    for patient in patients:
        sheet.append(
            [*_cells(patient, lambda d: d, lambda t: t, lambda b: b), "+49 170 000", "call first"]
        )
        sheet.cell(sheet.max_row, 4).number_format = "DD.MM.YYYY"
    sheet.append([])
    sheet.append([None] * 3)
    book.save(path)


def _export_csv(
    path: Path,
    patients: list[dict[str, Any]],
    header: list[str],
    cells: tuple[Any, Any, Any],
    encoding: str,
    extra: tuple[str, Any] | None = None,
    separator: str = ",",
    blank_at_end: bool = False,
) -> None:
    """``patients`` as a CSV file: dates, times and yes/no written by ``cells``, and an
    ``extra`` column (header, row number → cell) the batch does not read."""
    rows = [[*header, *([extra[0]] if extra else [])]]
    for number, patient in enumerate(patients):
        rows.append([*_cells(patient, *cells), *([extra[1](number)] if extra else [])])
    if blank_at_end:
        rows.append([""] * len(rows[0]))
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=separator).writerows(rows)


def export_excel_us(path: Path, patients: list[dict[str, Any]]) -> None:
    """Excel's "CSV UTF-8" on a US machine: a byte-order mark, m/d/yyyy, 9:30 AM, TRUE,
    and an empty row at the end."""
    cells = (
        lambda d: f"{d.month}/{d.day}/{d.year}",
        lambda t: t.strftime("%I:%M %p").lstrip("0"),
        lambda b: "TRUE" if b else "FALSE",
    )
    _export_csv(path, patients, LABELS, cells, "utf-8-sig", ("Phone", _phone), blank_at_end=True)


def _phone(number: int) -> str:
    return f"(555) 010-{number:04d}"


def export_european(path: Path, patients: list[dict[str, Any]]) -> None:
    """Excel in Germany: semicolons, 07.12.2026, Ja/Nein, a "Kind" header as typed."""
    cells = (
        lambda d: d.strftime("%d.%m.%Y"),
        lambda t: t.strftime("%H:%M"),
        lambda b: "Ja" if b else "Nein",
    )
    _export_csv(path, patients, ["KIND", *LABELS[1:]], cells, "utf-8-sig", separator=";")


def export_cp1252(path: Path, patients: list[dict[str, Any]]) -> None:
    """Excel's default "CSV (Comma delimited)": Windows-1252, dd/mm/yyyy, dotted headers."""
    header = ["kind", "locale", "patient.name", "patient.date_of_birth", "Patient.ID",
              "session.date", "session.time", "session.areas", "session.condition",
              "session.electrical_stimulation", *(f"screening.{n}" for n in SCREENING)]  # fmt: skip
    cells = (
        lambda d: d.strftime("%d/%m/%Y"),
        lambda t: t.strftime("%H:%M"),
        lambda b: "yes" if b else "no",
    )
    _export_csv(path, patients, header, cells, "cp1252")


def export_google(path: Path, patients: list[dict[str, Any]]) -> None:
    """Google Sheets: UTF-8 without a mark, ISO dates, 14:30:00, TRUE/FALSE, a notes
    column with line breaks in it."""
    cells = (
        lambda d: d.isoformat(),
        lambda t: t.strftime("%H:%M:%S"),
        lambda b: "TRUE" if b else "FALSE",
    )
    notes = ("Notes", lambda n: "prefers mornings\nparks outside" if n % 3 == 0 else "")
    _export_csv(path, patients, LABELS, cells, "utf-8", notes)


#: Export name → (writer, file name, clinic defaults' extra keys, date format option).
EXPORTS: dict[str, tuple[Any, str, dict[str, Any], str | None]] = {
    "xlsx": (export_xlsx, "day.xlsx", {}, None),
    "excel-us": (export_excel_us, "day-us.csv", {}, "M/D/YYYY"),
    "european": (export_european, "day-eu.csv", {"date_format": "DD.MM.YYYY"}, None),
    "cp1252": (export_cp1252, "day-1252.csv", {}, "%d/%m/%Y"),
    "google": (export_google, "day-google.csv", {}, None),
}
