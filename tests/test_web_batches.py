"""The front desk's flow in a real browser: a 40-row workbook with 3 bad rows, its
preview flagging exactly those rows, live progress, and the packets downloaded."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import Pdf
from service_support import xlsx_batch
from web_support import (
    Site,
    axe_violations,
    browser,
    close_page,
    open_page,
    screenshot,
    site,
    usable_at,
)

pytestmark = pytest.mark.service
__all__ = ["browser", "site"]

BATCH_URL = re.compile(r".*/batches/[0-9a-f]{32}$")


def test_a_40_row_workbook_with_3_bad_rows(site: Site, browser: Any, tmp_path: Path) -> None:
    # Every 13th patient has an unknown area: rows 14, 27 and 40 of the sheet (row 1 is
    # the header), made with openpyxl.
    workbook, documents, refused = xlsx_batch(tmp_path / "tomorrow.xlsx", 40, invalid_every=13)
    assert refused == 3
    upload = tmp_path / "tomorrow.xlsx"
    upload.write_bytes(workbook)
    page, watched = open_page(browser, site, "/batches")
    page.set_input_files("#file", str(upload))
    page.click("#upload")
    page.wait_for_url(BATCH_URL)

    rows = page.locator("table.preview tbody tr")
    assert rows.count() == 40
    flagged = {int(r) for r in page.locator("tr.row-problem").evaluate_all(
        "rows => rows.map(r => r.dataset.row)")}  # fmt: skip
    assert flagged == {14, 27, 40}
    assert "session.areas" in page.locator("tr.row-problem").first.inner_text()
    assert page.locator("tr.row-ok").count() == 37
    assert f"{documents} documents" in page.locator("#preview-summary").inner_text()
    # Nothing has been rendered yet: the batch waits for Start.
    assert page.locator("#batch-progress").count() == 0
    assert not axe_violations(page)
    screenshot(page, "batch-preview-1024")
    usable_at(page, 390)
    screenshot(page, "batch-preview-390")
    page.set_viewport_size({"width": 1024, "height": 900})

    page.click("#start")
    page.wait_for_url(BATCH_URL)
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if page.locator("#file-packets-pdf").count():
            break
        try:
            if page.evaluate("window.sameDocument === true"):
                state = (
                    page.locator("#count-done").inner_text(),
                    page.get_attribute("#batch-progress", "value") or "",
                )
                if not seen or seen[-1] != state:
                    seen.append(state)
        except Exception:  # the page is reloading once the batch has finished
            pass
        time.sleep(0.2)
    # The counts moved while the page stayed the same page: live progress, no reloads.
    assert len(seen) >= 3, seen
    assert int(seen[-1][0]) > int(seen[0][0])
    page.wait_for_selector("#file-packets-pdf")
    assert page.locator("#count-done").inner_text() == str(documents)
    assert page.locator("#count-left").inner_text() == "0"
    assert not axe_violations(page)
    screenshot(page, "batch-done-1024")

    with page.expect_download() as info:
        page.click("#file-packets-pdf")
    packets = Pdf(Path(info.value.path()).read_bytes())
    assert packets.pages >= documents
    text = packets.text
    assert "Patient Number 0" in text and "Patient Number 39" in text
    for bad in (12, 25, 38):  # the refused rows' patients are not printed
        assert f"Patient Number {bad}\n" not in text and f"ID-{bad}\n" not in text

    # The list of recent batches: when, who, counts; no patient names.
    page.goto(f"{site.url}/batches")
    recent = page.locator("table").inner_text()
    assert "Alex Morgan" in recent and "Patient Number" not in recent
    assert str(documents) in recent
    assert not watched.csp_violations()
    assert not [u for u in watched.urls if "Patient" in u or "ID-1" in u]
    close_page(page)


def test_a_file_that_is_not_a_batch_is_refused_beside_the_field(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    page, _ = open_page(browser, site, "/batches")
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a schedule")
    page.set_input_files("#file", str(bogus))
    page.click("#upload")
    assert "XLSX, CSV or JSON Lines" in page.locator("#file-error").inner_text()
    assert page.get_attribute("#file", "aria-invalid") == "true"
    close_page(page)
