"""Refresh the web app's catalogs: extract ``locales/web.pot`` and update each ``web.po``.

    .venv/bin/python scripts/web_catalog.py

New messages arrive in every ``web.po`` untranslated (``dn-docs locales check`` then
names them); translate them and run ``bash scripts/run.sh setup`` to compile.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYBABEL = str(Path(sys.executable).with_name("pybabel"))
LOCALES = ("es",)


def main() -> None:
    pot = ROOT / "locales" / "web.pot"
    common = ["--no-location", "--sort-output"]
    subprocess.run(
        [PYBABEL, "-q", "extract", "-F", "locales/web.cfg", *common, "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
    )
    for locale in LOCALES:
        po = ROOT / "locales" / locale / "LC_MESSAGES" / "web.po"
        if po.exists():
            args = ["update", "-D", "web", "-i", str(pot), "-d", "locales", "-l", locale]
            subprocess.run(
                [PYBABEL, "-q", *args, "--no-fuzzy-matching"], cwd=ROOT, check=True
            )
        else:
            args = ["init", "-D", "web", "-i", str(pot), "-d", "locales", "-l", locale]
            subprocess.run([PYBABEL, "-q", *args], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
