"""Writing documents to the output folder: safe names, owner-only files, atomic replace."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from .errors import StorageError

FILE_MODE = 0o600
DIR_MODE = 0o700


def ensure_dir(path: Path) -> Path:
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create output folder {path}: {exc.strerror}") from None
    return path


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    A symbolic link at ``path`` is refused, not written through: someone who can plant
    one must not choose which file a document overwrites.
    """
    if path.is_symlink():
        raise StorageError(f"refusing to write {path}: it is a symbolic link")
    ensure_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).chmod(FILE_MODE)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}") from None
    return path


def inside(folder: Path, name: str) -> Path:
    """``folder / name`` for a plain file name: no folders, no ``..``, and a link by
    that name is not followed."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise StorageError(f"refusing to write outside the output folder: {name[:60]!r}")
    return folder.resolve() / name


def confined(folder: str, root: Path) -> Path:
    """``folder`` if it is an absolute path inside ``root`` with no symbolic link and no
    ``..`` on the way; StorageError otherwise. ``root`` itself may be reached by a link."""
    path = Path(folder)
    real_root = root.resolve()
    if not path.is_absolute() or os.path.normpath(folder) != folder:
        raise StorageError("refusing an output folder that is not a plain absolute path")
    if os.path.realpath(folder) != folder:
        raise StorageError("refusing an output folder reached through a symbolic link")
    if not path.is_relative_to(real_root):
        raise StorageError(f"refusing an output folder outside the output root {real_root}")
    return path


def open_no_follow(path: Path, flags: int = os.O_RDONLY) -> int:
    """A file descriptor for ``path``; StorageError if it is a symbolic link."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StorageError(f"refusing {path}: it is a symbolic link") from None
        raise
