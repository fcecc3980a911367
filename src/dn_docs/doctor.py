"""``dn-docs doctor``: what a clinic's IT person runs to see whether this install is sound.

Each check gives one line, ``ok`` or ``problem``, with what it found and, for a problem,
what to do. None of them prints patient data (no request is read) or a password (a
broker URL is shown without it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from . import fonts, glyphs, locales, resources
from .pdf import libraries  # noqa: F401  (first: loads WeasyPrint's libraries quickly)

#: How long the broker may take to answer.
BROKER_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'problem':8} {self.name}: {self.detail}"


def run_checks(out: Path) -> list[Check]:
    """Every check, in the order they are printed; ``out`` is the output folder."""
    checks: list[tuple[str, Callable[[], Check]]] = [
        ("fonts", check_fonts),
        ("compact CJK fonts", check_compact_fonts),
        ("font subsetting", check_subsetting),
        ("catalogs", check_catalogs),
        ("acceleration", check_acceleration),
        ("installed versions", check_installed_versions),
        ("broker", check_broker),
        ("output folder", lambda: check_output_folder(out)),
    ]
    results = []
    for name, check in checks:
        try:
            results.append(check())
        except Exception as exc:  # a check that cannot run is itself a problem
            results.append(Check(name, False, f"could not check ({type(exc).__name__}: {exc})"))
    return results


def check_fonts() -> Check:
    """Every character of every shipped language's text has an installed font."""
    from babel.messages.mofile import read_mo

    if shutil.which("fc-list") is None:
        return Check("fonts", False, "fontconfig's fc-list is missing; install fontconfig")
    missing: dict[str, list[str]] = {}
    for locale_id in sorted(locales.SUPPORTED):
        if locale_id == locales.SOURCE_LOCALE:
            path = resources.locales_dir() / "messages.pot"
            text = path.read_text(encoding="utf-8")
        else:
            path = resources.locales_dir() / locale_id / "LC_MESSAGES" / "messages.mo"
            with path.open("rb") as handle:
                catalog = read_mo(handle)
            text = " ".join(
                " ".join(message.string)
                if isinstance(message.string, (tuple, list))
                else str(message.string or "")
                for message in catalog
            )
        if found := glyphs.unprintable(text):
            missing[locale_id] = found
    if missing:
        listed = "; ".join(f"{lang}: {', '.join(codes[:3])}" for lang, codes in missing.items())
        advice = "install the Noto fonts (bash scripts/run.sh setup)"
        return Check("fonts", False, f"no installed font prints {listed}; {advice}")
    count = len(locales.SUPPORTED)
    return Check("fonts", True, f"an installed font prints every character of {count} languages")


def check_compact_fonts() -> Check:
    built = fonts.available()
    if len(built) < len(fonts.FACES):
        absent = ", ".join(face.lang for face in fonts.FACES if face not in built)
        return Check(
            "compact CJK fonts",
            False,
            f"not built for {absent}: CJK documents are twice the size; run dn-docs fonts build",
        )
    return Check("compact CJK fonts", True, f"built in {fonts.fonts_dir()}")


def check_subsetting() -> Check:
    from weasyprint.text import ffi

    if ffi.harfbuzz_subset is None:
        return Check(
            "font subsetting",
            False,
            "HarfBuzz subsetting is missing: fonts are embedded slowly; "
            "install libharfbuzz-subset0",
        )
    return Check("font subsetting", True, "HarfBuzz subsetting is available")


def check_catalogs() -> Check:
    from babel.messages.pofile import read_po

    from .catalogs import check_catalog

    with (resources.locales_dir() / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    problems = [
        f"{report.locale}: {report.problems[0]}"
        for locale_id in sorted(locales.SUPPORTED)
        if locale_id != locales.SOURCE_LOCALE
        and not (report := check_catalog(locale_id, template)).ok
    ]
    if problems:
        return Check("catalogs", False, "; ".join(problems[:3]))
    count = len(locales.SUPPORTED) - 1
    return Check("catalogs", True, f"{count} translations complete, compiled and current")


def check_acceleration() -> Check:
    """The start-up check run afresh (it renders the self-test's examples both ways)."""
    from .pdf import default_renderer
    from .pdf.accel import startup

    state = startup.check(default_renderer(), trust_disk=False)
    return Check("acceleration", state.on or state.by_choice, str(state))


def check_installed_versions() -> Check:
    from .installation import differences, lock_file

    if not lock_file().is_file():
        return Check("installed versions", False, f"{lock_file()} is missing")
    found = differences()
    if found:
        listed = "; ".join(str(difference) for difference in found[:3])
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        return Check(
            "installed versions",
            False,
            f"{listed}{more}; run bash scripts/run.sh setup",
        )
    return Check("installed versions", True, "exactly the versions in requirements.lock")


def check_broker() -> Check:
    url = os.environ.get("DN_DOCS_BROKER_URL")
    if not url:
        return Check("broker", True, "none configured (batches use a local process pool)")
    shown = _without_password(url)
    try:
        if urlsplit(url).scheme in ("redis", "rediss"):
            import redis

            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
                socket_timeout=BROKER_TIMEOUT_SECONDS,
            )
            with client:
                client.ping()
        else:
            from kombu import Connection

            with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as connection:
                connection.ensure_connection(max_retries=1)
    except Exception as exc:
        reason = type(exc).__name__
        return Check("broker", False, f"{shown} is not reachable ({reason})")
    return Check("broker", True, f"{shown} answers")


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def check_output_folder(out: Path) -> Check:
    """``out`` can be written to (or made, in a folder that can be)."""
    if out.exists():
        if not out.is_dir():
            return Check("output folder", False, f"{out} is not a folder")
        try:
            with tempfile.NamedTemporaryFile(dir=out, prefix=".dn-docs-doctor-"):
                pass
        except OSError as exc:
            return Check("output folder", False, f"cannot write in {out} ({exc.strerror})")
        return Check("output folder", True, f"{out} can be written to")
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        reason = f"{out} does not exist and {parent} cannot be written to"
        return Check("output folder", False, reason)
    return Check("output folder", True, f"{out} does not exist yet and can be made in {parent}")
