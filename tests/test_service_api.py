"""The HTTP API through a real ``dn-docs serve`` process: embedded (SQLite and the local
render processes), on the real PostgreSQL, and with real Celery workers on Redis."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pikepdf
import pytest
import redis
from batch_support import Workers
from helpers import Pdf
from service_support import (
    PATIENT,
    PROFILE,
    SECRET,
    SHARED_REDIS,
    PostgresDatabase,
    RedisMonitor,
    Server,
    document_body,
    wait_for,
    xlsx_batch,
)

pytestmark = pytest.mark.service


@dataclass
class Deployment:
    backend: str
    server: Server
    clinic_id: str
    key: str
    database: PostgresDatabase | None = None
    workers: Workers | None = None
    monitor: RedisMonitor | None = None
    patients: list[str] = field(default_factory=list)

    def client(self, key: str | None = None) -> httpx.Client:
        return self.server.client(key or self.key)

    def logs(self) -> str:
        text = self.server.output()
        if self.workers is not None:
            text += "".join(self.workers.log(n) for n in range(len(self.workers.processes)))
        return text


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "broker"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    backend = request.param
    tmp = tmp_path_factory.mktemp(backend)
    env: dict[str, str] = {}
    database = workers = monitor = None
    if backend != "sqlite":
        database = PostgresDatabase()
        database.create()
        env |= {"DN_DOCS_DATABASE_URL": database.url, "DN_DOCS_SECRET_KEY": SECRET}
    try:
        if backend == "broker":
            client = redis.Redis.from_url(SHARED_REDIS)
            client.flushdb()
            monitor = RedisMonitor()
            monitor.start()
            logs = tmp / "worker-logs"
            logs.mkdir()
            workers = Workers(SHARED_REDIS, logs, **env)
            env |= {"DN_DOCS_BROKER_URL": SHARED_REDIS, "DN_DOCS_QUEUE": workers.queue}
            workers.env["DN_DOCS_QUEUE"] = workers.queue
            workers.start(count=1, concurrency=2)
        server = Server(tmp, **env)
        server.cli("db", "upgrade")
        clinic_id, key = server.new_clinic()
        server.start()
        deployed = Deployment(backend, server, clinic_id, key, database, workers, monitor)
        with deployed.client() as http:
            assert http.put("/v1/clinic", json=PROFILE).status_code == 200
        yield deployed
    finally:
        if "server" in locals():
            server.stop()
        if workers is not None:
            workers.stop()
        if monitor is not None:
            monitor.stop()
            redis.Redis.from_url(SHARED_REDIS).flushdb()
        if database is not None:
            database.drop()


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("urn:")
    return body


def test_a_document_synchronously(deployment: Deployment) -> None:
    with deployment.client() as http:
        response = http.post("/v1/documents", json=document_body())
        assert response.status_code == 200, response.text[:500]
        assert response.headers["content-type"] == "application/pdf"
        pdf = Pdf(response.content)
        # The patient from the request, the clinic and practitioner from the profile.
        assert pdf.contains(PATIENT["name"])
        assert pdf.contains("Harbour Physio") and pdf.contains("Alex Morgan")
        location = response.headers["content-location"].removesuffix("/pdf")
        meta = http.get(location).json()
    assert meta["status"] == "done" and meta["kind"] == "consent"
    assert meta["pages"] == pdf.pages
    assert meta["sha256"] == hashlib.sha256(response.content).hexdigest()
    assert PATIENT["name"] not in json.dumps(meta)


def test_a_document_asynchronously(deployment: Deployment) -> None:
    with deployment.client() as http:
        body = document_body(kind="aftercare", locale="es-MX")
        response = http.post("/v1/documents", json=body, headers={"Prefer": "respond-async"})
        assert response.status_code == 202, response.text[:500]
        location = response.headers["location"]
        assert response.json()["status"] in ("queued", "rendering", "done")
        meta = wait_for(http, location, ("done", "failed"))
        assert meta["status"] == "done" and meta["locale"] == "es"
        pdf = http.get(meta["pdf"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == meta["sha256"]
    assert Pdf(pdf.content).contains(PATIENT["name"])


def test_a_40_row_xlsx_batch(deployment: Deployment, tmp_path: Path) -> None:
    workbook, expected, refused = xlsx_batch(tmp_path / "day.xlsx", rows=40, invalid_every=10)
    with deployment.client() as http:
        response = http.post(
            "/v1/batches",
            files={
                "file": (
                    "day.xlsx",
                    workbook,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )
            },
            data={"defaults": json.dumps({"options": {"pdf_a": True}})},
        )
        assert response.status_code == 202, response.text[:500]
        status = wait_for(http, response.headers["location"], ("done", "failed", "cancelled"))
        assert status["status"] == "done", status
        assert status["counts"]["done"] == expected == status["documents"]
        assert status["invalid_rows"] == refused == 4
        assert status["progress"] == 1
        assert {e["field"] for e in status["row_errors"]} == {"session.areas[1]"}
        assert {f["name"] for f in status["files"]} == {
            "manifest.json",
            "errors.csv",
            "merged-consent.pdf",
            "merged-aftercare.pdf",
            "packets.pdf",
        }
        base = response.headers["location"]
        manifest = http.get(f"{base}/files/manifest.json").json()["documents"]
        errors = list(csv.DictReader(io.StringIO(http.get(f"{base}/files/errors.csv").text)))
        documents = http.get(f"{base}/documents").json()
        stacks = {
            kind: Pdf(http.get(f"{base}/files/merged-{kind}.pdf").content)
            for kind in ("consent", "aftercare")
        }
        packets = Pdf(http.get(f"{base}/files/packets.pdf").content)
        one = http.get(documents[0]["pdf"])
    assert len(manifest) == expected and all(e["status"] == "done" for e in manifest)
    assert [int(e["row"]) for e in errors] == [11, 21, 31, 41]
    assert len(documents) == expected and all(d["status"] == "done" for d in documents)
    for kind, stack in stacks.items():
        assert stack.pages == sum(d["pages"] for d in documents if d["kind"] == kind)
    # Each patient's documents together, each starting on a new duplex sheet.
    assert packets.pages == sum(d["pages"] + d["pages"] % 2 for d in documents)
    assert packets.contains("Patient Number 0") and packets.contains("Patient Number 38")
    assert not packets.contains("Patient Number 39")  # its row was refused
    assert hashlib.sha256(one.content).hexdigest() == documents[0]["sha256"]


def test_idempotency_keys(deployment: Deployment) -> None:
    with deployment.client() as http:
        body = document_body(locale="fr")
        first = http.post("/v1/documents", json=body, headers={"Idempotency-Key": "visit-1"})
        again = http.post("/v1/documents", json=body, headers={"Idempotency-Key": "visit-1"})
        other = http.post(
            "/v1/documents", json=document_body(locale="de"), headers={"Idempotency-Key": "visit-1"}
        )
        later = {"Idempotency-Key": "visit-2", "Prefer": "respond-async"}
        accepted = http.post("/v1/documents", json=body, headers=later)
        accepted_again = http.post("/v1/documents", json=body, headers=later)
        upload = {"file": ("day.jsonl", json.dumps(body).encode(), "application/jsonl")}
        batches = [
            http.post("/v1/batches", files=upload, headers={"Idempotency-Key": "day-1"})
            for _ in range(2)
        ]
        audit = http.get("/v1/audit").json()
    # Each multipart body has its own boundary; the same file is the same request.
    assert [b.status_code for b in batches] == [202, 202]
    assert batches[0].headers["location"] == batches[1].headers["location"]
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-location"] == first.headers["content-location"]
    problem(other, 409)
    assert accepted.status_code == accepted_again.status_code == 202
    assert accepted_again.headers["location"] == accepted.headers["location"]
    created = {e["object_id"] for e in audit if e["action"] == "document.create"}
    first_id = first.headers["content-location"].split("/")[3]
    assert first_id in created and accepted.headers["location"].split("/")[3] in created
    assert (
        sum(1 for e in audit if e["action"] == "document.create" and e["object_id"] == first_id)
        == 1
    )


def test_another_clinics_objects_are_not_found(deployment: Deployment, tmp_path: Path) -> None:
    _, other_key = deployment.server.new_clinic("Lakeside Clinic", "US")
    with deployment.client() as mine, deployment.client(other_key) as theirs:
        made = mine.post("/v1/documents", json=document_body(), headers={"Prefer": "respond-async"})
        document = made.headers["location"]
        batch = mine.post(
            "/v1/batches",
            files={
                "file": (
                    "day.jsonl",
                    json.dumps(document_body(kind="aftercare")).encode(),
                    "application/jsonl",
                )
            },
        ).headers["location"]
        wait_for(mine, document, ("done",))
        assert mine.get(document).status_code == 200
        for path in (
            document,
            f"{document}/pdf",
            batch,
            f"{batch}/documents",
            f"{batch}/files/manifest.json",
        ):
            body = problem(theirs.get(path), 404)
            assert path.split("/")[3] in body["detail"]
        problem(theirs.delete(batch), 404)
        unknown = problem(mine.get("/v1/documents/" + "0" * 32), 404)
        assert unknown["title"] == "Not found"
        assert theirs.get("/v1/clinic").json()["clinic"]["name"] == "Lakeside Clinic"


def test_missing_invalid_and_revoked_keys(deployment: Deployment) -> None:
    server = deployment.server
    extra = server.cli("keys", "create", "--clinic", deployment.clinic_id, "--role", "front_desk")
    with (
        server.client() as anonymous,
        server.client("dnd_000000000000_nope") as wrong,
        server.client(extra) as desk,
    ):
        assert problem(anonymous.get("/v1/clinic"), 401)["detail"].startswith("send an API key")
        assert anonymous.get("/v1/clinic").headers["www-authenticate"] == "Bearer"
        problem(wrong.get("/v1/clinic"), 401)
        problem(anonymous.post("/v1/documents", json=document_body()), 401)
        assert desk.get("/v1/clinic").status_code == 200
        problem(desk.put("/v1/clinic", json=PROFILE), 403)
        server.cli("keys", "revoke", extra)
        assert "revoked" in problem(desk.get("/v1/clinic"), 401)["detail"]


def test_oversized_wrong_type_and_invalid_bodies(deployment: Deployment) -> None:
    with deployment.client() as http:
        huge = document_body(padding="x" * 300_000)
        problem(http.post("/v1/documents", json=huge), 413)
        problem(
            http.post(
                "/v1/documents", content=b"kind=consent", headers={"Content-Type": "text/plain"}
            ),
            415,
        )
        problem(http.post("/v1/batches", files={"file": ("day.txt", b"hello", "text/plain")}), 415)
        problem(
            http.post("/v1/batches", content=b"a,b\n", headers={"Content-Type": "text/csv"}), 415
        )
        problem(
            http.put("/v1/clinic/logo", content=b"GIF89a", headers={"Content-Type": "image/gif"}),
            415,
        )
        problem(
            http.put(
                "/v1/clinic/logo",
                content=b"\x89PNG" + b"0" * 600_000,
                headers={"Content-Type": "image/png"},
            ),
            413,
        )
        problem(
            http.post(
                "/v1/verify", content=b"%PDF-1.7", headers={"Content-Type": "application/json"}
            ),
            415,
        )
        broken = problem(
            http.post("/v1/documents", content=b"{", headers={"Content-Type": "application/json"}),
            422,
        )
        assert (
            broken["errors"][0]["field"] == "request"
            and "not valid JSON" in broken["errors"][0]["reason"]
        )
        late = document_body(
            patient={**PATIENT, "date_of_birth": "2030-01-01"},
            session={"date": "2026-11-23", "areas": ["elbowz"]},
        )
        invalid = problem(http.post("/v1/documents", json=late), 422)
        refused = problem(
            http.post(
                "/v1/documents",
                json=document_body(
                    screening={**document_body()["screening"], "needle_phobia": True}
                ),
            ),
            422,
        )
    reasons = {(e["field"], e["reason"]) for e in invalid["errors"]}
    # The library's own messages, by field path; never the value that was sent.
    [(field, reason)] = reasons
    assert field == "session.areas[0]" and reason.startswith("must be one of: neck, head_jaw")
    assert refused["errors"] == [
        {
            "field": "screening",
            "reason": "consent refused: an absolute contraindication in the screening answers",
        }
    ]
    assert "2030" not in json.dumps(invalid)


def test_verify_a_served_consent(deployment: Deployment) -> None:
    with deployment.client() as http:
        pdf = http.post("/v1/documents", json=document_body()).content
        intact = http.post("/v1/verify", content=pdf, headers={"Content-Type": "application/pdf"})
        junk = http.post(
            "/v1/verify", content=b"%PDF-1.7 nothing", headers={"Content-Type": "application/pdf"}
        )
    # The service seals nothing here (no key configured): the text matches its record,
    # and nothing shows who made it.
    assert intact.status_code == 200, intact.text
    verdict = intact.json()
    assert verdict["status"] == "unsigned" and verdict["text"]["matches_record"] is True
    assert verdict["seals"] == [] and verdict["versions"]["catalog"]
    assert PATIENT["name"] not in intact.text
    assert problem(junk, 422)["errors"][0]["field"] == "file"


def png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (20, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def image_widths(pdf: bytes) -> list[int]:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return [int(image.Width) for page in document.pages for image in page.get_images().values()]


def test_the_clinic_logo_is_printed_on_documents(deployment: Deployment) -> None:
    logo = png(240, 80)
    with deployment.client() as http:
        before = http.post("/v1/documents", json=document_body(kind="aftercare")).content
        uploaded = http.put("/v1/clinic/logo", content=logo, headers={"Content-Type": "image/png"})
        assert uploaded.status_code == 200, uploaded.text[:300]
        assert uploaded.json()["logo"]["sha256"] == hashlib.sha256(logo).hexdigest()
        assert http.get("/v1/clinic/logo").content == logo
        with_logo = http.post("/v1/documents", json=document_body(kind="aftercare")).content
        too_wide = problem(
            http.put(
                "/v1/clinic/logo", content=png(2100, 20), headers={"Content-Type": "image/png"}
            ),
            422,
        )
        assert http.delete("/v1/clinic/logo").json()["logo"] is None
        after = http.post("/v1/documents", json=document_body(kind="aftercare")).content
    # The render process (a worker on another machine, in broker mode) got the logo from
    # the database.
    assert 240 in image_widths(with_logo)
    assert 240 not in image_widths(before) and 240 not in image_widths(after)
    assert too_wide["errors"][0]["field"] == "logo"


def test_content_and_locales(deployment: Deployment) -> None:
    with deployment.client() as http:
        content = http.get("/v1/content").json()
        languages = http.get("/v1/locales").json()
    assert content["version"] and all(item["citations"] for item in content["items"])
    assert {"en", "ar", "zh_Hans"} <= {language["locale"] for language in languages}
    assert {language["direction"] for language in languages} == {"ltr", "rtl"}


def test_no_patient_data_in_logs_audit_queue_or_database(deployment: Deployment) -> None:
    """Runs last in the module: everything the tests above sent has passed through."""
    with deployment.client() as http:
        http.post("/v1/documents", json=document_body(), headers={"Prefer": "respond-async"})
        audit = http.get("/v1/audit").json()
    time.sleep(1)
    places = {"server and render process logs": deployment.logs(), "audit log": json.dumps(audit)}
    assert (
        "document.create" in places["audit log"]
        and "POST /v1/documents" in places["server and render process logs"]
    )
    if deployment.monitor is not None:
        places["Redis traffic"] = deployment.monitor.text
        assert "dn_docs.service.job" in places["Redis traffic"]  # the monitor saw the messages
    if deployment.database is not None:
        rows = deployment.database.query("SELECT request_sealed, pdf_sealed FROM documents")
        places["database"] = repr(rows) + repr(
            deployment.database.query("SELECT * FROM audit_events")
        )
    else:
        folder = Path(deployment.server.env["DN_DOCS_DATA_DIR"])
        sqlite3.connect(folder / "dn-docs.sqlite3").execute("PRAGMA wal_checkpoint").close()
        places["database"] = b"".join(
            p.read_bytes() for p in folder.glob("dn-docs.sqlite3*")
        ).decode("latin-1")
        assert (folder / "secret.key").stat().st_mode & 0o777 == 0o600
    secrets = [
        PATIENT["name"],
        PATIENT["id"],
        PATIENT["date_of_birth"],
        "Patient Number 7",
        "ID-12",
        "blood_thinners",
    ]
    for place, text in places.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} found in the {place}"
            if place == "database":
                assert secret.encode("utf-8").decode("latin-1") not in text, (
                    f"{secret!r} in the {place}"
                )
