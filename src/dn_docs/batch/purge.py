"""Removing old outputs: PDFs, merged stacks and error reports, and their manifest entries."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import RequestError
from .lock import LOCK_FILE, is_locked
from .outputs import ERRORS, MANIFEST, Manifest

_UNITS = {"d": 86400, "h": 3600, "m": 60}
# Only files dn-docs writes are ever removed.
_OURS = re.compile(
    r"(\d{5}-(consent|aftercare)-[A-Za-z_]+|merged-(consent|aftercare)|packets(-resumed)?)\.pdf"
)


def parse_age(text: str) -> float:
    """``30d``, ``12h`` or ``90m`` in seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", text)
    if not match:
        raise RequestError([("--older-than", "must be a number with d, h or m, such as 30d")])
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass
class PurgeSummary:
    files: int = 0
    entries: int = 0
    folders: int = 0


def purge(out_dir: Path, older_than: float, now: float | None = None) -> PurgeSummary:
    cutoff = (now or time.time()) - older_than
    summary = PurgeSummary()
    for manifest_path in sorted(out_dir.resolve().rglob(MANIFEST)):
        folder = manifest_path.parent
        manifest = Manifest.load(folder)
        for path in folder.iterdir():
            old = path.is_file() and path.stat().st_mtime < cutoff
            if old and (_OURS.fullmatch(path.name) or path.name == ERRORS):
                path.unlink()
                summary.files += 1
        for name, entry in list(manifest.entries.items()):
            if not (folder / name).exists():
                del manifest.entries[name]
                summary.entries += 1 if entry.status == "done" else 0
        if manifest.entries:
            manifest.save()
        else:
            manifest_path.unlink()
            lock = folder / LOCK_FILE
            if [p.name for p in folder.iterdir()] == [LOCK_FILE] and not is_locked(folder):
                lock.unlink()
            if not any(folder.iterdir()):
                folder.rmdir()
                summary.folders += 1
    return summary
