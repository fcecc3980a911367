"""Whether this environment holds exactly the versions in ``requirements.lock``.

dn-docs is tested with the locked versions; a clinic's install should run the same
ones. ``dn-docs doctor`` reports any difference, and the set-up script removes
packages the lock does not name (``python -m dn_docs.installation --remove-unlocked``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from . import resources

#: ``name==version`` at the start of a lock line, then an optional ``; marker``.
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)\s*(?:;([^\\]*))?")
#: Installed alongside the locked packages by ``python -m venv`` and the editable install.
_NOT_LOCKED = frozenset({"pip", "setuptools", "dn-docs"})


@dataclass(frozen=True)
class Difference:
    package: str
    locked: str | None
    installed: str | None

    def __str__(self) -> str:
        if self.installed is None:
            return f"{self.package}: locked {self.locked}, not installed"
        if self.locked is None:
            return f"{self.package}: {self.installed} installed, not in the lock"
        return f"{self.package}: locked {self.locked}, installed {self.installed}"


def lock_file() -> Path:
    return resources.home() / "requirements.lock"


def locked_versions(path: Path | None = None) -> dict[str, str]:
    """The lock's pins that apply to this interpreter and platform, by canonical name."""
    pins: dict[str, str] = {}
    for line in (path or lock_file()).read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if not match:
            continue
        name, version, marker = match.groups()
        if marker and not Marker(marker.strip()).evaluate():
            continue
        pins[canonicalize_name(name)] = version
    return pins


def installed_versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            found[canonicalize_name(name)] = distribution.version
    return found


def differences(path: Path | None = None) -> list[Difference]:
    """Every package whose installed version is not the locked one (empty when exact)."""
    locked = locked_versions(path)
    installed = installed_versions()
    found = [
        Difference(name, version, installed.get(name))
        for name, version in sorted(locked.items())
        if installed.get(name) != version
    ]
    found += [
        Difference(name, None, version)
        for name, version in sorted(installed.items())
        if name not in locked and name not in _NOT_LOCKED
    ]
    return found


def remove_unlocked(path: Path | None = None) -> list[str]:
    """Uninstall what the lock does not name (left over from an earlier install)."""
    extra = [d.package for d in differences(path) if d.locked is None]
    if extra:
        subprocess.run(
            [sys.executable, "-m", "pip", "uninstall", "-q", "-y", *extra],
            check=True,
        )
    return extra


def main(argv: list[str]) -> int:
    if argv == ["--remove-unlocked"]:
        remove_unlocked()
    problems = differences()
    for problem in problems:
        print(f"dn-docs: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
