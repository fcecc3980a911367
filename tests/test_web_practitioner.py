"""The practitioner's flow in a real browser: sign in, fill the form in a few
interactions, preview, download, and read the PDFs back; by keyboard only; markup typed
into every field stays text; every page axe-clean and usable on a phone and a tablet."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import Pdf
from service_support import PATIENT
from web_support import (
    PASSWORD,
    Site,
    Watched,
    axe_violations,
    browser,
    close_page,
    open_page,
    screenshot,
    sign_in,
    site,
    usable_at,
)

from dn_docs.content.labels import AREA_LABELS
from dn_docs.locales import load_translations
from dn_docs.request import Area

pytestmark = pytest.mark.service
__all__ = ["browser", "site"]  # the module's fixtures

DOCUMENT_URL = re.compile(r".*/documents/[0-9a-f]{32}(\?also=[0-9a-f]{32})?$")


class Counter:
    """Counts what the user does: each click, fill, choice or key press is one."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0

    def __call__(self, action: Callable[..., Any], *args: Any) -> None:
        self.count += 1
        action(*args)


def download_pdf(page: Any, selector: str) -> Pdf:
    with page.expect_download() as info:
        page.click(selector)
    path = info.value.path()
    return Pdf(Path(path).read_bytes())


def test_an_arabic_aftercare_in_at_most_12_interactions(site: Site, browser: Any) -> None:
    page = browser.new_page()
    watched = Watched(page)
    sign_in(page, site, site.harbour)
    assert not axe_violations(page)
    screenshot(page, "new-document-1024")
    act = Counter(page)
    act(page.check, "#kind-aftercare")
    act(page.select_option, "#locale", "ar")
    act(page.fill, "#patient-name", "Layla Haddad")
    act(page.fill, "#patient-date_of_birth", "1985-04-12")
    act(page.fill, "#patient-id", "MRN-AR-1")
    act(page.check, "#area-knee")
    # The body diagram is the same control as the checkboxes beside it.
    act(page.click, ".body-diagram .zone[data-area=calf] >> nth=0")
    assert page.is_checked("#area-calf")
    act(page.select_option, "#session-condition", "plantar_fasciitis")
    act(page.click, "#create")
    assert act.count <= 12
    page.wait_for_url(DOCUMENT_URL)
    assert page.locator("h1 .patient-name").inner_text() == "Layla Haddad"
    # The preview is the PDF itself, in the page, from this site.
    frame = page.locator("iframe.pdf-preview")
    assert frame.get_attribute("src").endswith("/pdf")
    assert not axe_violations(page)
    screenshot(page, "preview-1024")
    pdf = download_pdf(page, "a[id^=download-]")
    arabic = load_translations("ar").gettext
    assert pdf.lang == "ar"
    assert "Layla Haddad" in pdf.text and "MRN-AR-1" in pdf.text
    assert pdf.metadata["/Title"].startswith(arabic("Aftercare after dry needling")[:6])
    for area in (Area.KNEE, Area.CALF):
        assert pdf.pages_with(arabic(AREA_LABELS[area])), area
    assert not pdf.pages_with(arabic(AREA_LABELS[Area.NECK]))
    assert not watched.csp_violations()
    assert not [u for u in watched.urls if "Layla" in u or "MRN-AR-1" in u]
    close_page(page)


def test_an_english_consent_with_screening_in_at_most_12_interactions(
    site: Site, browser: Any
) -> None:
    page, watched = open_page(browser, site, "/documents/new")
    act = Counter(page)
    act(page.check, "#kind-consent")
    act(page.fill, "#patient-name", PATIENT["name"])
    act(page.fill, "#patient-date_of_birth", "1979-03-14")  # the date picker's value
    act(page.fill, "#patient-id", PATIENT["id"])
    act(page.check, "#area-neck")
    act(page.check, "#area-upper_back")
    act(page.select_option, "#session-condition", "neck_pain")
    act(page.click, "#none-apply")
    act(page.check, "input[name='screening.blood_thinners'][value=yes]")
    assert page.is_hidden("#refusal")
    act(page.click, "#create")
    assert act.count <= 12
    page.wait_for_url(DOCUMENT_URL)
    pdf = download_pdf(page, "a[id^=download-]")
    assert pdf.lang == "en"
    assert pdf.contains(PATIENT["name"]) and PATIENT["id"] in pdf.text
    assert pdf.contains("Consent to dry needling")
    assert "1979" in pdf.text and "March" in pdf.text
    for label in ("Neck", "Upper back"):
        assert pdf.contains(label)
    # The "yes" to blood thinners is printed as the patient's answer.
    assert pdf.contains("Taking medicine that thins the blood")
    assert not watched.csp_violations()
    close_page(page)


def test_an_absolute_contraindication_explains_itself_and_refuses_the_consent(
    site: Site, browser: Any
) -> None:
    page, _ = open_page(browser, site, "/documents/new")
    page.check("#kind-both")
    page.fill("#patient-name", "Noor Example")
    page.fill("#patient-date_of_birth", "1990-01-02")
    page.check("#area-hand")
    page.click("#none-apply")
    page.check("input[name='screening.needle_phobia'][value=yes]")
    assert page.is_visible("#refusal")  # at once, before sending anything
    page.click("#create")
    assert page.locator("#form-problems").is_visible()
    screening_error = page.locator("#screening-questions .field-error").first
    assert "absolute contraindication" in screening_error.inner_text()
    # What was typed stays in the form for the next try.
    assert page.input_value("#patient-name") == "Noor Example"
    page.check("#kind-aftercare")  # the handout stays available
    page.click("#create")
    page.wait_for_url(DOCUMENT_URL)
    assert "Noor Example" in page.locator("h1").inner_text()
    close_page(page)


def test_errors_appear_beside_their_fields(site: Site, browser: Any) -> None:
    page, _ = open_page(browser, site, "/documents/new")
    page.check("#kind-consent")
    page.fill("#patient-date_of_birth", "2199-01-01")
    page.click("#create")
    assert page.locator("#patient-name-error").inner_text() == "must not be empty"
    assert "required" in page.locator("#session-areas-error").inner_text() or page.locator(
        "#session-areas-error"
    ).inner_text().startswith("must have at least")
    assert page.get_attribute("#patient-name", "aria-invalid") == "true"
    assert not axe_violations(page)
    screenshot(page, "form-errors-1024")
    close_page(page)


MARKUP = '<b>bold</b><script>alert(1)</script>{{ 7*7 }}&amp;"'


def test_markup_typed_into_every_field_is_shown_and_printed_literally(
    site: Site, browser: Any
) -> None:
    page, _ = open_page(browser, site, "/documents/new")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.check("#kind-aftercare")
    page.fill("#patient-name", "Ann " + MARKUP)
    page.fill("#patient-date_of_birth", "1970-05-05")
    page.fill("#patient-id", "ID<i>7</i>")
    page.check("#area-foot")
    page.click("#create")
    page.wait_for_url(DOCUMENT_URL)
    assert page.locator("h1 .patient-name").inner_text() == "Ann " + MARKUP
    assert page.locator(".patient-id").inner_text() == "ID<i>7</i>"
    assert page.locator("h1 b").count() == 0 and not dialogs
    pdf = download_pdf(page, "a[id^=download-]")
    assert "<b>bold</b>" in pdf.text and "{{ 7*7 }}" in pdf.text and "ID<i>7</i>" in pdf.text
    # The history shows it literally too.
    page.goto(f"{site.url}/history")
    assert page.locator("td", has_text="<b>bold</b>").count() >= 1
    # And the settings' text fields: the clinic's name and a practitioner's details.
    page.goto(f"{site.url}/settings")
    page.fill("#clinic-name", "Harbour " + MARKUP)
    page.fill("#practitioners-0-credentials", "MCSP <em>x</em>")
    page.click("#save-settings")
    page.wait_for_url(re.compile(r".*/settings\?saved=profile$"))
    assert page.input_value("#clinic-name") == "Harbour " + MARKUP
    page.goto(f"{site.url}/documents/new")
    assert "Harbour " + MARKUP in page.locator(".lead").inner_text()
    assert "MCSP <em>x</em>" in page.locator("#practitioner").inner_text()
    page.check("#kind-aftercare")
    page.fill("#patient-name", "Bea Literal")
    page.fill("#patient-date_of_birth", "1971-06-06")
    page.check("#area-hip")
    page.click("#create")
    page.wait_for_url(DOCUMENT_URL)
    pdf = download_pdf(page, "a[id^=download-]")
    assert "<b>bold</b>" in pdf.text and "MCSP <em>x</em>" in pdf.text
    assert not dialogs
    page.goto(f"{site.url}/settings")
    page.fill("#clinic-name", "Harbour Physio")
    page.fill("#practitioners-0-credentials", "MCSP")
    page.click("#save-settings")
    close_page(page)


def test_the_practitioner_flow_by_keyboard_only(site: Site, browser: Any) -> None:
    page, _ = open_page(browser, site, "/documents/new")
    keys = page.keyboard
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip-link"
    keys.press("Enter")

    def tab_to(element_id: str, limit: int = 80) -> None:
        for _ in range(limit):
            keys.press("Tab")
            if page.evaluate("document.activeElement.id") == element_id:
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("kind-consent")
    keys.press("ArrowRight")  # radios: the arrow keys move the choice
    assert page.is_checked("#kind-aftercare")
    tab_to("locale")
    keys.type("Es")  # jump by the first letters of the language's name
    assert page.input_value("#locale") == "es"
    tab_to("patient-name")
    keys.type("Keyboard Only")
    tab_to("patient-date_of_birth")
    keys.type("03021988")
    tab_to("area-shoulder")
    keys.press("Space")
    assert page.is_checked("#area-shoulder")
    tab_to("create", limit=120)
    focused_outline = page.evaluate(
        "getComputedStyle(document.activeElement, ':focus-visible').outlineStyle"
    )
    assert focused_outline != "none"
    keys.press("Enter")
    page.wait_for_url(DOCUMENT_URL)
    assert "Keyboard Only" in page.locator("h1").inner_text()
    # Download by keyboard too: the download link is focusable and Enter follows it.
    with page.expect_download() as info:
        page.focus("a[id^=download-]")
        keys.press("Enter")
    pdf = Pdf(Path(info.value.path()).read_bytes())
    assert pdf.lang == "es" and "Keyboard Only" in pdf.text
    close_page(page)


@pytest.mark.parametrize("path", ["/login", "/documents/new", "/batches", "/history", "/settings"])
def test_every_page_is_axe_clean_and_usable_on_a_phone_and_a_tablet(
    site: Site, browser: Any, path: str
) -> None:
    if path == "/login":
        page = browser.new_page()
        watched = Watched(page)
        page.context.clear_cookies()
        page.goto(f"{site.url}{path}")
    else:
        page, watched = open_page(browser, site, path)
        assert page.url == f"{site.url}{path}", "not signed in"
    name = path.strip("/").replace("/", "-")
    for width in (390, 1024):
        usable_at(page, width)
        assert not axe_violations(page), (path, width)
        screenshot(page, f"{name}-{width}")
    assert not watched.csp_violations()
    close_page(page)


def test_the_interface_speaks_spanish(site: Site, browser: Any) -> None:
    page, _ = open_page(browser, site, "/documents/new")
    page.select_option("#ui-language", "es")
    with page.expect_navigation(url=f"{site.url}/documents/new"):
        page.click("#ui-language + button")
    assert page.locator("h1").inner_text() == "Nuevo documento"
    assert page.get_attribute("html", "lang") == "es"
    # Languages by their own name and the interface's; areas in the catalog's Spanish.
    assert "English, Inglés" in page.locator("#locale").inner_text()
    assert (
        page.locator("label[for]", has_text="Rodilla").count()
        or page.locator("label", has_text="Rodilla").count()
    )
    assert not axe_violations(page)
    screenshot(page, "new-document-es-390")
    page.select_option("#ui-language", "en")
    with page.expect_navigation(url=f"{site.url}/documents/new"):
        page.click("#ui-language + button")
    assert page.locator("h1").inner_text() == "New document"
    close_page(page)


def test_the_password_is_never_in_the_process_list_or_the_log(site: Site) -> None:
    assert PASSWORD not in site.server.output()
