"""Running one job: the code that a Celery task and a local pool process both call.

A job's payload is small and JSON-safe (the validated request, the output folder and
the file name). The result carries only metadata that is safe to keep in a result
backend or a log: never PDF bytes, never patient data.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from ..errors import ConsentRefusedError, DnDocsError
from ..limits import RENDER_SECONDS
from ..pipeline import render_document
from ..storage import inside, write_atomic
from .inputs import Job

log = logging.getLogger("dn_docs.batch")


def payload(job: Job, out_dir: Path, generated_at: dt.datetime) -> dict[str, Any]:
    return {
        "request": job.request,
        "out_dir": str(out_dir),
        "file": job.file_name,
        "generated_at": generated_at.isoformat(),
    }


def failure(reason: str) -> dict[str, Any]:
    return {"status": "failed", "error": reason}


def run_job(job_payload: dict[str, Any], seconds: float | None = None) -> dict[str, Any]:
    """Render one document to its file. Returns metadata; failures are results, not raises."""
    name = str(job_payload["file"])
    try:
        generated_at = dt.datetime.fromisoformat(job_payload["generated_at"])
        document = render_document(
            job_payload["request"], generated_at=generated_at, seconds=seconds or RENDER_SECONDS
        )
        write_atomic(inside(Path(job_payload["out_dir"]), name), document.pdf)
    except ConsentRefusedError:
        return failure(ConsentRefusedError.public_message)
    except DnDocsError as exc:
        # These messages are written for operators and carry no patient data.
        log.warning("job %s failed: %s", name, type(exc).__name__)
        return failure(str(exc))
    log.info("job %s done: %d pages", name, document.pages)
    return {
        "status": "done",
        "file": name,
        "sha256": document.sha256,
        "pages": document.pages,
        "bytes": len(document.pdf),
    }
