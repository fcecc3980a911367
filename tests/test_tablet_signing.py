"""A consent signed on a tablet: a real ``dn-docs serve`` sealing with a development CA,
driven by Debian's Chromium on a 1024x768 touch screen (the patient signs with a finger,
the practitioner enters the PIN and signs with the mouse), and the signing API over HTTP."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import Pdf
from playwright.sync_api import Page
from service_support import PATIENT, PROFILE, Server, document_body
from signing_support import assert_pyhanko_agrees, image_boxes, trust_roots_of, where
from tablet_support import finger_signature, mouse_signature, tablet_browser

from dn_docs.record import read_record
from dn_docs.signing import DevCredentials, Status, verify_document

pytestmark = pytest.mark.service

PIN = "4821"


@dataclass
class Clinic:
    server: Server
    key: str
    other_key: str
    folder: Path

    def client(self, key: str | None = None) -> httpx.Client:
        return self.server.client(key or self.key)

    def consent(self, **changes: Any) -> str:
        """A finished consent of the clinic: its id."""
        with self.client() as http:
            made = http.post("/v1/documents", json=document_body(**changes))
            assert made.status_code == 200, made.text[:300]
            return made.headers["content-location"].split("/")[3]

    def start(self, document_id: str, **body: Any) -> dict[str, Any]:
        with self.client() as http:
            started = http.post(
                f"/v1/documents/{document_id}/signing-sessions", json={"pin": PIN, **body}
            )
            assert started.status_code == 201, started.text[:500]
            return started.json()

    def sql(self, statement: str, *params: Any) -> None:
        with sqlite3.connect(self.folder / "dn-docs.sqlite3") as connection:
            connection.execute(statement, params)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory, dev_ca: DevCredentials) -> Iterator[Clinic]:
    tmp = tmp_path_factory.mktemp("tablet")
    env = dict(line.split("=", 1) for line in dev_ca.environment_lines())
    server = Server(tmp, **env)
    server.cli("db", "upgrade")
    _, key = server.new_clinic()
    _, other_key = server.new_clinic("Other Physio")
    server.start()
    try:
        for each in (key, other_key):
            with server.client(each) as http:
                assert http.put("/v1/clinic", json=PROFILE).status_code == 200
        yield Clinic(server, key, other_key, Path(server.env["DN_DOCS_DATA_DIR"]))
    finally:
        server.stop()


# The browser ------------------------------------------------------------------------------

#: Pages of the service a patient might try to reach from the tablet.
ELSEWHERE = ["/openapi.json", "/docs", "/v1/clinic", "/health", "/", "/sign/closed"]


def _locked(page: Page, base: str, visited: list[str]) -> None:
    """Every link on the page stays on the tablet, and every other page of the service,
    typed in or opened in another tab, ends on the tablet's own page."""
    for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
        assert href.startswith(f"{base}/sign"), href
    for path in [*ELSEWHERE, *visited]:
        page.goto(base + path)
        assert page.url == f"{base}/sign", (path, page.url)
    other_tab = page.context.new_page()
    other_tab.goto(f"{base}/openapi.json")
    assert other_tab.url == f"{base}/sign"
    other_tab.close()


def _pages_shown(page: Page) -> int:
    images = page.locator("img.page")
    images.last.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.page')]"
        ".every(i => i.complete && i.naturalWidth > 900)"
    )
    return images.count()


def test_a_patient_and_the_practitioner_sign_on_a_touch_tablet(
    clinic: Clinic, dev_ca: DevCredentials, tmp_path: Path
) -> None:
    base = clinic.server.url
    document_id = clinic.consent()
    started = clinic.start(document_id)
    assert started["roles"] == ["patient", "practitioner"]
    assert PATIENT["name"] not in str(started) and started["url"].startswith("/sign/")

    with tablet_browser(tmp_path / "profile") as tablet:
        page = tablet.pages[0] if tablet.pages else tablet.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{base}/openapi.json")  # the practitioner's page before the hand-over
        page.goto(base + started["url"])
        assert page.url == f"{base}/sign"  # the link's token is gone from the address bar

        # The patient reads the consent: every page, as images of the PDF they sign.
        assert page.locator("h1").inner_text() == "Please read your consent form"
        assert _pages_shown(page) == Pdf(_shown(clinic, document_id)).pages
        assert page.locator("#role-label").get_attribute("data-role") == "patient"
        assert PATIENT["name"] in page.locator(".signing-as").inner_text()

        _locked(page, base, visited=[f"/v1/documents/{document_id}/pdf"])
        page.go_back()
        page.go_back()
        assert page.url == f"{base}/sign"
        # Leaving needs the PIN; a wrong one is counted.
        page.click("#leave")
        page.fill("#pin", "0000")
        page.click("#pin-submit")
        assert "Wrong PIN. Tries left: 4" in page.locator("#pin-error").inner_text()
        page.click("#back")
        assert page.url == f"{base}/sign"

        # The patient signs with a finger: touch input, seen as pointer events of a touch.
        page.evaluate(
            "window.kinds = []; document.getElementById('pad')"
            ".addEventListener('pointerdown', e => window.kinds.push(e.pointerType))"
        )
        finger_signature(page, "#pad")
        assert set(page.evaluate("window.kinds")) == {"touch"}
        page.click("#sign")
        assert page.locator("h1").inner_text() == (
            "Thank you. Please give the tablet back to your practitioner."
        )
        _locked(page, base, visited=[])

        # The practitioner enters the PIN and signs with the mouse.
        page.fill("#pin", PIN)
        page.click("#pin-submit")
        assert page.locator("#role-label").get_attribute("data-role") == "practitioner"
        mouse_signature(page, "#pad")
        page.click("#sign")
        page.wait_for_selector("#status[data-step='signed']", timeout=120_000)
        _locked(page, base, visited=[])

        # Leaving gives the browser back: the rest of the service answers again.
        page.click("#leave-now")
        assert page.url == f"{base}/sign/closed"
        page.goto(f"{base}/openapi.json")
        assert page.url == f"{base}/openapi.json"
        assert not [line for line in console if "Content Security Policy" in line], console

    with clinic.client() as http:
        session = http.get(f"/v1/signing-sessions/{started['id']}").json()
        signed = http.get(session["pdf"])
    assert session["status"] == "signed"
    assert [(s["role"], s["method"]) for s in session["signers"]] == [
        ("patient", "drawn"),
        ("practitioner", "drawn"),
    ]
    assert signed.status_code == 200 and signed.headers["content-type"] == "application/pdf"
    pdf = signed.content

    verdict = verify_document(pdf, trust_roots=trust_roots_of(dev_ca))
    assert verdict.status is Status.INTACT, verdict.lines()
    # pyHanko's own validator agrees on the tablet-signed file too.
    (tmp_path / "signed.pdf").write_bytes(pdf)
    assert_pyhanko_agrees(tmp_path / "signed.pdf", verdict, [dev_ca.trust_roots])
    record = read_record(pdf)
    assert [s["role"] for s in record["signers"]] == ["patient", "practitioner"]
    assert record["signers"][0]["name"] == PATIENT["name"]
    assert record["signers"][0]["user_agent"].startswith("Mozilla/5.0")
    # Each signature image in its own box: the column of its label, just above it.
    for label_text in ("Patient's signature", "Practitioner's signature"):
        (label,) = where(pdf, label_text)
        boxes = [
            box
            for box in image_boxes(pdf, label.page)
            if abs(box[0] - label.x) < 3 and 0 < box[1] - label.y < 45
        ]
        assert len(boxes) == 1, (label_text, image_boxes(pdf, label.page))

    log = clinic.server.output()
    for value in PATIENT.values():
        assert value not in log
    assert started["url"] not in log


def _shown(clinic: Clinic, document_id: str) -> bytes:
    with clinic.client() as http:
        return http.get(f"/v1/documents/{document_id}/pdf").content


# The API and the tablet's pages over plain HTTP ------------------------------------------------


@contextmanager
def _open(clinic: Clinic, url: str) -> Iterator[httpx.Client]:
    """A tablet that opened the link: a client with its cookie."""
    with clinic.server.client() as tablet:
        opened = tablet.get(url, follow_redirects=False)
        assert opened.status_code == 303 and opened.headers["location"] == "/sign"
        yield tablet


def test_wrong_pins_are_limited_and_ending_the_session_frees_the_tablet(clinic: Clinic) -> None:
    started = clinic.start(clinic.consent())
    with _open(clinic, started["url"]) as tablet:
        for left in (4, 3, 2, 1):
            wrong = tablet.post("/sign/pin", data={"pin": "9999", "purpose": "leave"})
            assert wrong.status_code == 403 and f"Tries left: {left}" in wrong.text
        last = tablet.post("/sign/pin", data={"pin": "9999", "purpose": "leave"})
        assert last.status_code == 403 and "Too many wrong PINs" in last.text
        # The right PIN no longer opens it, and the tablet stays locked.
        right = tablet.post("/sign/pin", data={"pin": PIN, "purpose": "leave"})
        assert right.status_code == 403 and "Too many wrong PINs" in right.text
        away = tablet.get("/openapi.json", follow_redirects=False)
        assert away.status_code == 303 and away.headers["location"] == "/sign"
        with clinic.client() as http:
            assert (
                http.get(f"/v1/signing-sessions/{started['id']}").json()["pin_attempts_left"] == 0
            )
            ended = http.delete(f"/v1/signing-sessions/{started['id']}").json()
            audit = [e["action"] for e in http.get("/v1/audit").json()]
        assert ended["status"] == "ended" and ended["released_at"]
        assert audit.count("signing.pin_wrong") >= 5 and "signing.locked_out" in audit
        freed = tablet.get("/openapi.json", follow_redirects=False)
        assert freed.status_code == 200
        assert 'dn_docs_tablet=""' in freed.headers.get("set-cookie", "")


def test_the_link_works_once_and_not_after_it_expired(clinic: Clinic) -> None:
    used = clinic.start(clinic.consent())
    with _open(clinic, used["url"]), clinic.server.client() as stranger:
        again = stranger.get(used["url"], follow_redirects=False)
        assert again.status_code == 404 and "does not work" in again.text
        assert stranger.get("/sign", follow_redirects=False).status_code == 404
        assert stranger.get("/sign/page/1.png").status_code == 404
    expired = clinic.start(clinic.consent())
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S.000000")
    clinic.sql("UPDATE signing_sessions SET expires_at = ? WHERE id = ?", past, expired["id"])
    with clinic.server.client() as late:
        assert late.get(expired["url"], follow_redirects=False).status_code == 404
        made_up = late.get("/sign/" + "A" * 43, follow_redirects=False)
        assert made_up.status_code == 404


def test_a_session_is_the_clinics_own(clinic: Clinic) -> None:
    document_id = clinic.consent()
    with clinic.client(clinic.other_key) as other:
        refused = other.post(f"/v1/documents/{document_id}/signing-sessions", json={"pin": PIN})
        assert refused.status_code == 404
    started = clinic.start(document_id)
    with clinic.client(clinic.other_key) as other:
        for path in ("", "/pdf"):
            assert other.get(f"/v1/signing-sessions/{started['id']}{path}").status_code == 404
        assert other.delete(f"/v1/signing-sessions/{started['id']}").status_code == 404
    with clinic.client() as http:
        # One session at a time for a document, and the signed PDF only once it is signed.
        twice = http.post(f"/v1/documents/{document_id}/signing-sessions", json={"pin": PIN})
        assert twice.status_code == 409 and started["id"] in twice.json()["detail"]
        not_yet = http.get(f"/v1/signing-sessions/{started['id']}/pdf")
        assert not_yet.status_code == 409


def test_bad_starts_name_the_field(clinic: Clinic) -> None:
    document_id = clinic.consent()
    with clinic.client() as http:
        for body, field in (
            ({"pin": "12"}, "pin"),
            ({"pin": "12ab"}, "pin"),
            ({"pin": PIN, "return_to": "https://elsewhere.example/"}, "return_to"),
            ({"pin": PIN, "return_to": "//elsewhere.example"}, "return_to"),
        ):
            bad = http.post(f"/v1/documents/{document_id}/signing-sessions", json=body)
            assert bad.status_code == 422, (body, bad.text)
            assert [e["field"] for e in bad.json()["errors"]] == [field]
        aftercare = http.post("/v1/documents", json=document_body(kind="aftercare"))
        handout = aftercare.headers["content-location"].split("/")[3]
        refused = http.post(f"/v1/documents/{handout}/signing-sessions", json={"pin": PIN})
        assert refused.status_code == 409 and "only consents" in refused.json()["detail"]


def test_a_posted_form_from_another_site_is_refused(clinic: Clinic) -> None:
    started = clinic.start(clinic.consent())
    with _open(clinic, started["url"]) as tablet:
        forged = tablet.post(
            "/sign/pin",
            data={"pin": PIN, "purpose": "leave"},
            headers={"Origin": "http://elsewhere.example"},
        )
        assert forged.status_code == 404
        assert tablet.get("/health", follow_redirects=False).status_code == 303
        # A blank drawing is refused beside the pad, in the page.
        blank = tablet.post(
            "/sign/signature",
            data={"role": "patient", "method": "drawn", "image": "data:image/png;base64,AAAA"},
        )
        assert blank.status_code == 422 and "could not be read" in blank.text


def test_without_a_sealing_key_a_session_is_not_started(tmp_path: Path) -> None:
    server = Server(tmp_path)
    server.cli("db", "upgrade")
    _, key = server.new_clinic()
    server.start()
    try:
        with server.client(key) as http:
            assert http.put("/v1/clinic", json=PROFILE).status_code == 200
            made = http.post("/v1/documents", json=document_body())
            document_id = made.headers["content-location"].split("/")[3]
            refused = http.post(f"/v1/documents/{document_id}/signing-sessions", json={"pin": PIN})
    finally:
        server.stop()
    assert refused.status_code == 409
    assert "DN_DOCS_SIGNING_KEY" in refused.json()["detail"]


def test_a_minors_consent_in_arabic_signs_in_the_documents_order_and_language(
    clinic: Clinic,
) -> None:
    document_id = clinic.consent(locale="ar", patient={**PATIENT, "date_of_birth": "2014-05-02"})
    started = clinic.start(document_id, witness=True)
    assert started["roles"] == ["guardian", "patient", "interpreter", "witness", "practitioner"]
    with _open(clinic, started["url"]) as tablet:
        shown = tablet.get("/sign")
        assert shown.status_code == 200
        assert '<html lang="ar" dir="rtl">' in shown.text
        assert "يرجى قراءة نموذج الموافقة الخاص بك" in shown.text
        assert 'data-role="guardian"' in shown.text
        assert (
            "Content-Security-Policy" in shown.headers
            and "default-src 'self'" in (shown.headers["content-security-policy"])
        )
        # The guardian has no printed name: a typed signature needs one.
        nameless = tablet.post(
            "/sign/signature", data={"role": "guardian", "method": "typed", "name": " "}
        )
        assert nameless.status_code == 422 and 'id="name-error"' in nameless.text
        typed = tablet.post(
            "/sign/signature",
            data={"role": "guardian", "method": "typed", "name": "سمير حداد", "utc_offset": "180"},
            follow_redirects=False,
        )
        assert typed.status_code == 303
        # Next, the minor signs the patient's box under their own agreement.
        minor = tablet.get("/sign").text
        assert 'data-role="patient"' in minor
        assert "Dry needling was explained to me" not in minor  # in Arabic, not English
    with clinic.client() as http:
        session = http.get(f"/v1/signing-sessions/{started['id']}").json()
    assert session["signers"][0]["role"] == "guardian"
    assert session["signers"][0]["method"] == "typed"
    assert session["signers"][0]["signed_at"].endswith("+03:00")
    assert "سمير" not in str(session)
