"""schemathesis against a real server's /openapi.json: over a thousand generated
requests, no server error, every response as the schema describes it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from service_support import PROFILE, Server

pytestmark = pytest.mark.service

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)


def test_generated_requests_meet_the_openapi_schema(tmp_path: Path) -> None:
    server = Server(tmp_path)
    server.cli("db", "upgrade")
    _, key = server.new_clinic()
    server.start()
    try:
        with server.client(key) as http:
            assert http.put("/v1/clinic", json=PROFILE).status_code == 200
            spec = http.get("/openapi.json").json()
        served_from = len(server.output())
        run = subprocess.run(
            [
                SCHEMATHESIS,
                "run",
                f"{server.url}/openapi.json",
                "-H",
                f"Authorization: Bearer {key}",
                "--checks",
                CHECKS,
                "--max-examples",
                "25",
                "--workers",
                "1",
                "--seed",
                "20",
                "--generation-database",
                "none",
                "--no-color",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        server.stop()
    print(run.stdout[-3000:])
    assert spec["openapi"].startswith("3.1")
    assert run.returncode == 0, run.stdout[-6000:]
    generated, passed = map(int, re.search(r"(\d+) generated, (\d+) passed", run.stdout).groups())
    assert generated >= 1000 and passed == generated
    calls = re.findall(r'"[A-Z]+ /\S* HTTP/1.1" (\d{3})', server.output()[served_from:])
    assert len(calls) >= 1000
    assert not [status for status in calls if status.startswith("5")]
    # The example request renders: the schema's example is a valid request.
    assert re.search(r'"POST /v1/documents HTTP/1.1" 200', server.output()[served_from:])
