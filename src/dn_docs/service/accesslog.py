"""The access log without secrets: a signing link's token is a key to a patient's
consent until a tablet opens it, so the log shows ``/sign/<link>`` in its place."""

from __future__ import annotations

import logging
import re

_SIGNING_LINK = re.compile(r"^/sign/(?!static/|page/|closed$|leave$|pin$|signature$)[^/?]+")


def redacted(path: str) -> str:
    return _SIGNING_LINK.sub("/sign/<link>", path)


class SigningLinkFilter(logging.Filter):
    """Rewrites the path uvicorn's access log line carries (its third argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redacted(args[2]), *args[3:])
        return True
