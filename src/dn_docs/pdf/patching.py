"""WeasyPrint functions swapped for the length of one render.

The warm renderer reuses work by standing in for a few of WeasyPrint's functions
while it renders (see :mod:`.renderer`). Outside that block WeasyPrint is itself
again, so a plain render in the same process gets no help.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def swapped(owner: Any, name: str, replacement: Any) -> Iterator[None]:
    """``owner.name`` is ``replacement`` inside this block (not thread-safe)."""
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)
