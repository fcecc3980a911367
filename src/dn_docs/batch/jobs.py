"""One job: render one request to one PDF in the output folder.

A job's payload is small and JSON-safe: a reference to its request (see
:mod:`~dn_docs.batch.references`; the local pool, which sends no message, carries the
request itself), the output folder and the file name. The result carries only
metadata that is safe to keep in a result backend or a log: never PDF bytes, never
patient data.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from ..errors import ConsentRefusedError, DnDocsError
from ..limits import RENDER_SECONDS
from ..pipeline import render_document
from ..storage import confined, inside, write_atomic
from .inputs import Job
from .references import Reference, RequestWithdrawnError, resolve

log = logging.getLogger("dn_docs.batch")

#: The status of a job whose request its batch withdrew: it wrote nothing, and it stays
#: to be done by ``--resume``.
WITHDRAWN = "withdrawn"


def payload(
    job: Job, out_dir: Path, generated_at: dt.datetime, reference: Reference | None = None
) -> dict[str, Any]:
    return {
        **({"ref": reference} if reference is not None else {"request": job.request}),
        "out_dir": str(out_dir),
        "file": job.file_name,
        "generated_at": generated_at.isoformat(),
    }


def failure(reason: str) -> dict[str, Any]:
    return {"status": "failed", "error": reason}


def run_job(
    job_payload: dict[str, Any], seconds: float | None = None, output_root: Path | None = None
) -> dict[str, Any]:
    """Render one document to its file. Returns metadata; failures are results, not raises.

    With ``output_root`` (a worker's ``DN_DOCS_OUTPUT_ROOT``), a job whose output folder
    is not inside it writes nothing.
    """
    name = str(job_payload["file"])
    try:
        out_dir = Path(job_payload["out_dir"])
        if output_root is not None:
            out_dir = confined(str(job_payload["out_dir"]), output_root)
        target = inside(out_dir, name)
        request = job_payload.get("request")
        if request is None:
            request = resolve(job_payload["ref"], out_dir)
        generated_at = dt.datetime.fromisoformat(job_payload["generated_at"])
        document = render_document(
            request, generated_at=generated_at, seconds=seconds or RENDER_SECONDS
        )
        write_atomic(target, document.pdf)
    except RequestWithdrawnError as exc:
        log.info("job %s withdrawn by its batch", name)
        return {"status": WITHDRAWN, "error": str(exc)}
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
