"""Print packets: each patient's consent and handout together, each document starting on
an odd page, in appointment order; after --resume, a stack of what that run rendered."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from batch_support import clinic_defaults
from helpers import Pdf

from dn_docs.batch import LocalDispatcher, run_batch

DEFAULTS = {**clinic_defaults(), "locale": "en"}

#: Row → appointment time ("" for none). Rows print 10:15, 11:00, 14:30, then no time.
TIMES = {2: "14:30", 3: "", 4: "10:15", 5: "11:00", 6: "", 7: "9:05 AM"}
#: Rows 5 and 7 ask for a consent only, the others for both.


def write_day(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["Kind", "Patient name", "Date of birth", "Appointment date", "Appointment time",
             "Areas", "Local infection", "Needle phobia", "Able to consent", "Pregnant",
             "Immunocompromised", "Lymphedema", "Pacemaker or implant", "Blood thinners",
             "Bleeding disorder", "Large print"]
        )  # fmt: skip
        for row, time in TIMES.items():
            kind = "consent" if row in (5, 7) else "consent;aftercare"
            # Large print makes some documents run to an odd number of pages.
            writer.writerow(
                [kind, f"Packet Patient {row}", "1970-05-06", "2026-12-07", time, "knee",
                 "no", "no", "yes", "no", "no", "no", "no", "no", "no",
                 "yes" if row % 2 else "no"]
            )  # fmt: skip


def documents_in(pdf: Pdf, manifest: list[dict], order: list[tuple[int, str]]) -> None:
    """``pdf`` holds the documents of ``order`` one after the other, each starting on an odd
    page, blank pages only as padding; each page names its row's patient."""
    pages = pdf.page_texts()
    by_key = {(e["row"], e["kind"]): e for e in manifest}
    page = 0
    for row, kind in order:
        entry = by_key[(row, kind)]
        assert page % 2 == 0, f"row {row} {kind} starts on page {page + 1}"
        for text in pages[page : page + entry["pages"]]:
            assert f"Packet Patient {row}" in text.replace("\n", " ")
        page += entry["pages"]
        if entry["pages"] % 2:
            assert not pages[page].strip(), "the padding page is not blank"
            page += 1
    assert page == len(pages)


def test_packets_keep_each_patient_together_in_appointment_order(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    write_day(source)
    out = tmp_path / "out"
    summary = run_batch(source, out, LocalDispatcher(workers=2), DEFAULTS)
    assert summary.done == 10 and summary.clean
    entries = json.loads((out / "manifest.json").read_text())["documents"]
    assert any(e["pages"] % 2 for e in entries), "no odd page count: padding is untested"
    # 09:05, 10:15, 11:00, 14:30, then rows 3 and 6 (no time) in row order.
    expected = [
        (7, "consent"),
        (4, "consent"),
        (4, "aftercare"),
        (5, "consent"),
        (2, "consent"),
        (2, "aftercare"),
        (3, "consent"),
        (3, "aftercare"),
        (6, "consent"),
        (6, "aftercare"),
    ]
    documents_in(Pdf((out / "packets.pdf").read_bytes()), entries, expected)
    # The separate stacks are still made, in row order.
    consents = Pdf((out / "merged-consent.pdf").read_bytes())
    assert consents.pages == sum(e["pages"] for e in entries if e["kind"] == "consent")
    assert "Packet Patient 2" in consents.page_texts()[0]
    assert not (out / "packets-resumed.pdf").exists()

    # --resume after two documents went missing: a packet stack of just those two.
    for name in ("00006-aftercare-en.pdf", "00004-consent-en.pdf"):
        (out / name).unlink()
    again = run_batch(source, out, LocalDispatcher(workers=2), DEFAULTS, resume=True)
    assert (again.done, again.skipped) == (2, 8)
    entries = json.loads((out / "manifest.json").read_text())["documents"]
    documents_in(
        Pdf((out / "packets-resumed.pdf").read_bytes()),
        entries,
        [(4, "consent"), (6, "aftercare")],
    )
    documents_in(Pdf((out / "packets.pdf").read_bytes()), entries, expected)


def test_stacks_can_be_chosen(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    write_day(source)
    out = tmp_path / "out"
    run_batch(source, out, LocalDispatcher(workers=2), DEFAULTS, stacks=("kinds",))
    assert (out / "merged-consent.pdf").exists() and not (out / "packets.pdf").exists()
    out = tmp_path / "none"
    run_batch(source, out, LocalDispatcher(workers=2), DEFAULTS, stacks=())
    assert not list(out.glob("merged-*.pdf")) and not (out / "packets.pdf").exists()
