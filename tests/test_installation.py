"""The install is the locked one: exact versions, and a lock that satisfies pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from dn_docs import installation

REPO = Path(__file__).resolve().parent.parent


def test_the_virtualenv_holds_exactly_the_locked_versions() -> None:
    assert installation.differences() == []


def test_every_requirement_of_pyproject_is_locked_at_a_version_it_allows() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["dev"],
        *project["dependency-groups"]["build"],
    ]
    locked = installation.locked_versions(REPO / "requirements.lock")
    for text in wanted:
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in requirements.lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements.lock pins {requirement.name} {locked[name]}, "
            f"outside pyproject's {requirement.specifier}"
        )


def test_every_locked_pin_carries_a_hash() -> None:
    text = (REPO / "requirements.lock").read_text(encoding="utf-8")
    blocks = [b for b in text.split("\n") if b and not b.startswith((" ", "#"))]
    assert blocks, "requirements.lock lists no packages"
    for block in blocks:
        assert "==" in block and block.rstrip().endswith("\\"), f"no exact pin and hash: {block}"


def test_a_difference_is_reported_by_name_and_both_versions(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "jinja2==0.0.1 \\\n    --hash=sha256:00\n"
        "not-a-real-package==1.0 ; python_version >= '3'\n"
        "other-platform==1.0 ; sys_platform == 'no-such-platform'\n",
        encoding="utf-8",
    )
    found = {d.package: d for d in installation.differences(lock)}
    assert found["jinja2"].locked == "0.0.1" and found["jinja2"].installed
    assert str(found["not-a-real-package"]) == "not-a-real-package: locked 1.0, not installed"
    assert "other-platform" not in found
    # weasyprint is installed but not in this lock: reported as unlocked.
    assert found["weasyprint"].locked is None
