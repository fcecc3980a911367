"""WeasyPrint's shared libraries, opened by their Linux file names.

WeasyPrint asks cffi for each of its libraries (GObject, Pango, HarfBuzz, fontconfig)
under a list of names that covers every platform. cffi hands each name it cannot open
to :func:`ctypes.util.find_library`, which on Linux runs ``ldconfig``, then ``gcc``
and ``ld`` for every name it does not find: 22 searches, a quarter of a second of
every new process before it renders anything (a cold ``dn-docs render``, each worker
process). Every list also holds the library's Linux file name (``libpango-1.0.so.0``),
which the dynamic loader opens directly, as it does for any program linked against
the library. So on Linux the search answers "not found" while WeasyPrint loads, and
each library is opened under that name.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def opened_by_file_name() -> Iterator[None]:
    """Within this block, cffi opens libraries only by names the loader knows."""
    if not sys.platform.startswith("linux"):
        yield
        return
    search = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        yield
    finally:
        ctypes.util.find_library = search


with opened_by_file_name():
    import weasyprint.text.ffi  # noqa: F401
