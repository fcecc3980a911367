"""Load for ``dn-docs serve``: each simulated client posts the next document of a clinic's
weeks (the batch benchmark's workload) and waits for its PDF, then posts again."""

from __future__ import annotations

import itertools
import json
import os
import sys

from locust import HttpUser, constant, task

sys.path.insert(0, os.path.dirname(__file__))
from bench import workload

BODIES = [json.dumps(request) for request in workload(2000, seed=11)]
NEXT = itertools.count()


class ClinicSystem(HttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {os.environ['DN_DOCS_BENCH_KEY']}"

    @task
    def document(self) -> None:
        body = BODIES[next(NEXT) % len(BODIES)]
        with self.client.post(
            "/v1/documents",
            data=body,
            headers={"Content-Type": "application/json"},
            name="POST /v1/documents",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or not response.content.startswith(b"%PDF-"):
                response.failure(f"HTTP {response.status_code}")
