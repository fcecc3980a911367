"""Checks on the translation catalogs, run by ``dn-docs locales check`` and in CI.

A catalog passes when every message is translated and not fuzzy, placeholders match
the English, the plural forms fit the language, the compiled ``.mo`` loads as a real
translation (not the silent English fallback), and ``messages.pot`` matches a fresh
extraction from the code and templates.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from babel.support import Translations

from . import locales, resources

_PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}")
_PLURAL_COUNT = re.compile(r"nplurals\s*=\s*(\d+)")
#: A message every catalog must translate; used to tell a real catalog from the fallback.
_PROBE = "Consent to dry needling"


@dataclass
class CatalogReport:
    locale: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


def check_catalog(locale_id: str, template: Catalog, folder: Path | None = None) -> CatalogReport:
    folder = folder or resources.locales_dir()
    report = CatalogReport(locale_id)
    po_path = folder / locale_id / "LC_MESSAGES" / "messages.po"
    if not po_path.is_file():
        report.problems.append(f"{po_path} is missing")
        return report
    catalog = _read(po_path)
    wanted = {m.id for m in template if m.id}
    present = {m.id for m in catalog if m.id}
    for msgid in sorted(wanted - present, key=str):
        report.problems.append(f"missing: {str(msgid)[:60]!r}")
    for msgid in sorted(present - wanted, key=str):
        report.problems.append(f"stale (not in messages.pot): {str(msgid)[:60]!r}")
    for message in catalog:
        if not message.id:
            continue
        short = str(message.id)[:60]
        if message.fuzzy:
            report.problems.append(f"fuzzy: {short!r}")
        strings = _forms(message.string or "")
        if not all(strings):
            report.problems.append(f"untranslated: {short!r}")
            continue
        source = str(message.id[0] if isinstance(message.id, (tuple, list)) else message.id)
        for string in strings:
            if placeholders(string) != placeholders(source):
                report.problems.append(f"placeholders differ: {short!r}")
    header = next((m for m in catalog if not m.id), None)
    if header is not None and header.fuzzy:
        report.problems.append("the header is marked fuzzy")
    expected = get_plural(Locale.parse(locale_id)).num_plurals
    found = _PLURAL_COUNT.search(catalog.plural_forms or "")
    if not found or int(found.group(1)) != expected:
        report.problems.append(f"Plural-Forms should have nplurals={expected}")
    header_comment = locales.read_header_comment(po_path)
    for key in ("translation-version", "review-status"):
        if key not in header_comment:
            report.problems.append(f"the opening comment has no '{key.title()}:' line")
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.is_file():
        report.problems.append("not compiled (run pybabel compile -d locales)")
    else:
        with mo_path.open("rb") as handle:
            compiled = Translations(handle)
        if compiled.gettext(_PROBE) == _PROBE or not _compiled_matches(mo_path, catalog):
            report.problems.append("the compiled .mo is out of date or falls back to English")
    return report


def _compiled_matches(mo_path: Path, catalog: Catalog) -> bool:
    """Whether the compiled ``.mo`` holds every translation the ``.po`` file holds, as written."""
    with mo_path.open("rb") as handle:
        compiled = read_mo(handle)
    for message in catalog:
        if not message.id or message.fuzzy or not message.string:
            continue
        found = compiled.get(message.id, message.context)
        if found is None or _forms(found.string) != _forms(message.string):
            return False
    return True


def _forms(string: object) -> list[str]:
    """A message's translation as a list of its plural forms (Babel reads a compiled
    catalog's plural forms as a list and a ``.po`` file's as a tuple)."""
    return [str(s) for s in string] if isinstance(string, (tuple, list)) else [str(string)]


def extraction_is_current(root: Path | None = None) -> list[str]:
    """Differences between ``messages.pot`` and a fresh extraction (empty when current)."""
    root = root or resources.home()
    with tempfile.TemporaryDirectory() as tmp:
        fresh_path = Path(tmp) / "fresh.pot"
        CommandLineInterface().run(  # type: ignore[no-untyped-call]
            [
                "pybabel",
                "-q",
                "extract",
                "-F",
                str(root / "pyproject.toml"),
                "--no-location",
                "--sort-output",
                "-o",
                str(fresh_path),
                str(root),
            ]
        )
        fresh = {m.id for m in _read(fresh_path) if m.id}
    committed = {m.id for m in _read(root / "locales" / "messages.pot") if m.id}
    problems = [f"not in messages.pot: {str(i)[:60]!r}" for i in sorted(fresh - committed, key=str)]
    problems += [
        f"stale in messages.pot: {str(i)[:60]!r}" for i in sorted(committed - fresh, key=str)
    ]
    return problems


def check_all() -> tuple[list[CatalogReport], list[str]]:
    template = _read(resources.locales_dir() / "messages.pot")
    reports = [
        check_catalog(locale_id, template)
        for locale_id in sorted(locales.SUPPORTED)
        if locale_id != locales.SOURCE_LOCALE
    ]
    stale = extraction_is_current() if (resources.home() / "pyproject.toml").is_file() else []
    return reports, stale
