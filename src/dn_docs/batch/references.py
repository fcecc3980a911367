"""A job's request travels by reference: queue messages never carry patient data.

The side that sends jobs keeps each request in a :class:`RequestStore` and puts only
the reference it returns into the message; the worker turns the reference back into
the request with the source registered for its ``scheme``::

    {"scheme": "file", "run": "3f2a…", "name": "00002-consent-es.json"}   # CLI batches
    {"scheme": "db", "id": "…"}                                          # e.g. a service

A reference holds no patient data: ids, file names, run tokens. Sources are found in
:data:`SOURCES` (add one with :func:`register_source`) or, for a scheme not yet
registered, in the ``dn_docs.request_sources`` entry point group: an entry point
named after the scheme that loads a :data:`RequestSource`. A source raises
:class:`RequestWithdrawnError` when the request is gone (the batch was stopped or ended):
the job then writes nothing.

CLI batches keep requests in :class:`FileRequestStore`: owner-only files in a hidden
folder of the batch's own output folder, which workers already see at the same path.
Each file is removed once its document is done, and the folder when the batch ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from ..errors import DnDocsError
from ..storage import ensure_dir, inside, open_no_follow

Reference = dict[str, str]
#: Turns a reference into its request; ``out_dir`` is the job's output folder, already
#: checked to be inside the worker's output root.
RequestSource = Callable[[Mapping[str, str], Path], dict[str, Any]]
ENTRY_POINT_GROUP = "dn_docs.request_sources"


class RequestWithdrawnError(DnDocsError, LookupError):
    """The referenced request is no longer there: its batch was stopped or has ended."""


class RequestStore(Protocol):
    """Where a dispatcher keeps the requests of the jobs it sends."""

    def put(self, key: str, request: dict[str, Any]) -> Reference: ...

    def discard(self, key: str) -> None:
        """The job is finished: its request is not needed again."""

    def withdraw(self) -> None:
        """The batch is stopping: no job that has not read its request may read it now."""


#: The hidden folder of an output folder that holds a running batch's requests.
REQUESTS_FOLDER = ".dn-docs-requests"
_RUN = re.compile(r"[0-9a-f]{32}")
_NAME = re.compile(r"\d{5}-[a-z]+-[A-Za-z_]+\.json")


class FileRequestStore:
    """Requests as owner-only JSON files in ``<out>/.dn-docs-requests/<run>/``.

    ``<run>`` is new for every batch run, so a message left in a queue by a run that
    was stopped finds nothing to render, whatever later runs store.
    """

    def __init__(self, folder: Path) -> None:
        self.base = inside(folder, REQUESTS_FOLDER)
        self.run = uuid.uuid4().hex
        self.folder = self.base / self.run

    @classmethod
    def open(cls, folder: Path) -> FileRequestStore:
        """A store for a new run; requests that earlier runs left (a batch killed outright)
        are removed: the output folder's lock says no other run is using them."""
        store = cls(folder)
        if store.base.is_dir() and not store.base.is_symlink():
            shutil.rmtree(store.base, ignore_errors=True)
        ensure_dir(store.folder)
        return store

    @staticmethod
    def _name(key: str) -> str:
        return key.removesuffix(".pdf") + ".json"

    def put(self, key: str, request: dict[str, Any]) -> Reference:
        name = self._name(key)
        # The message naming this file is sent after it is written, so no worker reads it
        # half-written; and it is worth nothing after a crash, so it is not synced.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with os.fdopen(open_no_follow(inside(self.folder, name), flags), "wb") as handle:
            handle.write(json.dumps(request).encode("utf-8"))
        return {"scheme": "file", "run": self.run, "name": name}

    def discard(self, key: str) -> None:
        inside(self.folder, self._name(key)).unlink(missing_ok=True)

    def withdraw(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def close(self) -> None:
        self.withdraw()
        with contextlib.suppress(OSError):  # another run's folder is still there
            self.base.rmdir()


def read_file_reference(reference: Mapping[str, str], out_dir: Path) -> dict[str, Any]:
    """The ``file`` scheme: a request file of a run inside the job's own output folder."""
    run, name = str(reference.get("run", "")), str(reference.get("name", ""))
    if not _RUN.fullmatch(run) or not _NAME.fullmatch(name):
        raise DnDocsError("the job's request reference is not one a batch writes")
    path = inside(inside(inside(out_dir, REQUESTS_FOLDER), run), name)
    try:
        descriptor = open_no_follow(path)
    except FileNotFoundError:
        raise RequestWithdrawnError("the batch withdrew the job (stopped or finished)") from None
    with os.fdopen(descriptor, "rb") as handle:
        data = json.loads(handle.read())
    if not isinstance(data, dict):
        raise DnDocsError("the job's request file does not hold a request")
    return data


SOURCES: dict[str, RequestSource] = {"file": read_file_reference}


def register_source(scheme: str, source: RequestSource) -> None:
    """Let workers resolve references of ``scheme`` with ``source``."""
    SOURCES[scheme] = source


def resolve(reference: Mapping[str, str], out_dir: Path) -> dict[str, Any]:
    """The request a reference points at; RequestWithdrawnError if it is gone."""
    scheme = str(reference.get("scheme", ""))
    if scheme not in SOURCES:
        for entry in entry_points(group=ENTRY_POINT_GROUP, name=scheme):
            register_source(scheme, entry.load())
    if scheme not in SOURCES:
        raise DnDocsError(f"no request source for references of scheme {scheme[:20]!r}")
    return SOURCES[scheme](reference, out_dir)
