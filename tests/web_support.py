"""The web app's browser tests: a real ``dn-docs serve``, Debian's Chromium driven by
Playwright (never a downloaded browser), axe-core from tests/browser (npm ci)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from service_support import DN_DOCS, PROFILE, Server

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
#: Where every page's screenshot goes (a test artifact; a few are copied to docs/screenshots).
SCREENSHOTS = Path(os.environ.get("DN_DOCS_SCREENSHOTS", REPO / "out" / "screenshots"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    clinic_id: str
    email: str
    name: str
    key: str


@dataclass
class Site:
    """A running server with two clinics, each with an admin who can sign in."""

    server: Server
    harbour: Account
    other: Account
    seen_urls: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url


def create_user(server: Server, clinic_id: str, email: str, name: str, role: str) -> str:
    done = subprocess.run(
        [DN_DOCS, "users", "create", "--clinic", clinic_id, "--email", email, "--name", name,
         "--role", role, "--password-stdin"],
        input=PASSWORD + "\n",
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def start_site(tmp: Path) -> Site:
    server = Server(tmp)
    server.start()
    accounts = []
    for name, email, person in (
        ("Harbour Physio", "alex@harbour.example", "Alex Morgan"),
        ("Other Clinic", "sam@other.example", "Sam Other"),
    ):
        clinic_id, key = server.new_clinic(name)
        profile = {**PROFILE, "clinic": {**PROFILE["clinic"], "name": name}}
        profile["practitioners"] = [{**PROFILE["practitioners"][0], "name": person}]
        with server.client(key) as client:
            assert client.put("/v1/clinic", json=profile).status_code == 200
        create_user(server, clinic_id, email, person, "admin")
        accounts.append(Account(clinic_id, email, person, key))
    return Site(server, accounts[0], accounts[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (bash scripts/run.sh setup)")
    running = start_site(tmp_path_factory.mktemp("web"))
    try:
        yield running
    finally:
        running.server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (bash scripts/run.sh setup)")
    with tempfile.TemporaryDirectory(prefix="dn-docs-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            accept_downloads=True,
            viewport={"width": 1024, "height": 900},
            locale="en-GB",
        )
        try:
            yield context
        finally:
            context.close()


class Watched:
    """A page whose URLs and console are recorded: no URL may carry patient data, and
    the Content-Security-Policy must never have refused anything of the app's own."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.urls: list[str] = []
        self.console: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("console", lambda message: self.console.append(message.text))

    def csp_violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m]


def sign_in(page: Any, site: Site, account: Account) -> None:
    page.goto(f"{site.url}/login")
    page.fill("#email", account.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/documents/new")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (every rule axe runs by default)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def usable_at(page: Any, width: int) -> None:
    """No sideways scrolling at this width, and the page's primary button is on screen
    once scrolled to (not cut off)."""
    page.set_viewport_size({"width": width, "height": 844 if width < 500 else 768})
    page.wait_for_timeout(100)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
    primary = page.locator(".button.primary").first
    if primary.count():
        primary.scroll_into_view_if_needed()
        box = primary.bounding_box()
        assert box is not None and box["width"] > 0
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box


def close_page(page: Any) -> None:
    """Closes a tab once its last navigation has loaded: closing a tab while a form's
    redirect is still loading can leave Playwright waiting forever."""
    page.wait_for_load_state("load")
    page.close()


def open_page(browser: Any, site: Site, path: str) -> tuple[Any, Watched]:
    """A new tab on ``path``, signed in as Harbour Physio's admin (once per browser)."""
    page = browser.new_page()
    watched = Watched(page)
    page.goto(f"{site.url}{path}")
    if page.url.endswith("/login"):
        sign_in(page, site, site.harbour)
        page.goto(f"{site.url}{path}")
    return page, watched
