"""Signatures captured on a tablet: placed in their boxes with the printed name and time,
listed in the consent record's audit trail, then sealed (the web flow comes later; this is
the library it will call)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from click.testing import CliRunner
from helpers import Pdf, assert_pdf_a_3u, make_request
from PIL import Image
from signing_support import (
    Drawn,
    deletion_attack,
    drawn_text,
    image_boxes,
    pad_drawing,
    verified,
    where,
)

import dn_docs
from dn_docs import RequestError, SigningError, resources
from dn_docs.cli import main
from dn_docs.compose.environment import environment
from dn_docs.locales import load_translations
from dn_docs.record import read_record
from dn_docs.request import parse_request
from dn_docs.signing import DevCredentials, Status, sign_consent
from dn_docs.signing.captures import normalized_image

AT = dt.datetime(2026, 11, 23, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
TABLET = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"


def _capture(shown: bytes, role: str, name: str, minutes: int = 0, **changes: Any) -> dict:
    return {
        "role": role,
        "name": name,
        "signed_at": AT + dt.timedelta(minutes=minutes),
        "user_agent": TABLET,
        "document_sha256": hashlib.sha256(shown).hexdigest(),
        "image": pad_drawing(minutes + 1),
        **changes,
    }


@pytest.fixture
def shown(sealing: DevCredentials) -> bytes:
    """The consent the signers read: rendered and sealed, as the web app would show it."""
    return dn_docs.render_document(make_request(screening={"blood_thinners": True})).pdf


def _on_row(pieces: list[Drawn], label: Drawn) -> Drawn:
    (piece,) = [p for p in pieces if p.page == label.page and abs(p.y - label.y) < 1]
    return piece


def _above(piece: Drawn, label: Drawn) -> bool:
    """Drawn in the box over ``label``: its column, between the label and the row above."""
    return piece.page == label.page and abs(piece.x - label.x) < 3 and 0 < piece.y - label.y < 45


def test_patient_and_practitioner_sign_and_the_consent_is_sealed(
    sealing: DevCredentials, shown: bytes, tmp_path: Path
) -> None:
    patient = _capture(shown, "patient", "Jordan Avery")
    practitioner = _capture(shown, "practitioner", "Sam Okafor", minutes=2)
    signed = sign_consent(shown, [patient, practitioner])

    result = verified(signed.pdf, tmp_path, [sealing.trust_roots], "signed")
    assert result.status is Status.INTACT and signed.sealed
    assert_pdf_a_3u(signed.pdf, "en")

    # The audit trail: who, in what role, when, on what device, having seen what.
    record, shown_record = read_record(signed.pdf), read_record(shown)
    seen = hashlib.sha256(shown).hexdigest()
    assert [s["role"] for s in record["signers"]] == ["patient", "practitioner"]
    for entry, capture in zip(record["signers"], (patient, practitioner), strict=True):
        assert entry["name"] == capture["name"] and entry["user_agent"] == TABLET
        assert entry["signed_at"] == capture["signed_at"].isoformat()
        assert entry["document_sha256"] == seen and entry["method"] == "drawn"
        placed = hashlib.sha256(normalized_image(capture["image"])).hexdigest()
        assert entry["image_sha256"] == placed
    assert shown_record["signers"] == []
    # The same text as the copy they read, the same stamp in every footer, the same pages.
    assert record["text_sha256"] == shown_record["text_sha256"]
    assert record["generated_at"] == shown_record["generated_at"]
    assert signed.pages == Pdf(shown).pages
    assert record["page_text_sha256"][0] == shown_record["page_text_sha256"][0]

    # Each signature image in its box, the printed name and the time beside it.
    pieces = list(drawn_text(signed.pdf))
    printed_labels = [p for p in pieces if p.text.strip() == "Printed name"]
    date_labels = [p for p in pieces if p.text.strip() == "Date"]
    for label_text, capture in (
        ("Patient's signature", patient),
        ("Practitioner's signature", practitioner),
    ):
        (label,) = where(signed.pdf, label_text)
        printed, date = _on_row(printed_labels, label), _on_row(date_labels, label)
        boxes = [
            box
            for box in image_boxes(signed.pdf, label.page)
            if abs(box[0] - label.x) < 3 and 0 < box[1] - label.y < 45
        ]
        assert len(boxes) == 1, (label_text, image_boxes(signed.pdf, label.page))
        _, bottom, right, top = boxes[0]
        assert right < printed.x and 15 < top - bottom < 22  # 7 mm: the space over the line
        assert any(capture["name"] in p.text for p in pieces if _above(p, printed))
        when = capture["signed_at"]
        in_date_box = " ".join(p.text for p in pieces if _above(p, date))
        assert f"November {when.day}, {when.year}" in in_date_box
        assert f"{when:%-I:%M}" in in_date_box and "+0100" in in_date_box
    (witness,) = where(signed.pdf, "Witness's signature")
    assert not any(_above(p, _on_row(printed_labels, witness)) for p in pieces)

    report = CliRunner().invoke(main, ["verify", str(tmp_path / "signed.pdf")])
    assert report.exit_code == 0
    assert f"signer: patient at {patient['signed_at'].isoformat()} (drawn)" in report.output
    assert "Jordan Avery" not in report.output  # the report names roles, not people


def test_guardian_interpreter_and_witness_sign_a_minors_consent_in_arabic(
    sealing: DevCredentials, tmp_path: Path
) -> None:
    request = make_request("ar", patient={"date_of_birth": "2012-03-04"}, clinic={"language": "en"})
    shown = dn_docs.render_document(request).pdf
    signers = {
        "patient": "ليلى حداد",
        "guardian": "سمير حداد",
        "interpreter": "Nadia Haddad",
        "witness": "Omar Said",
        "practitioner": "Sam Okafor",
    }
    roles = list(signers)
    captures = [
        _capture(shown, role, name, minutes=n) for n, (role, name) in enumerate(signers.items())
    ]
    captures[3] = {**captures[3], "image": None}  # the witness typed their name
    signed = sign_consent(shown, captures)
    assert verified(signed.pdf, tmp_path, [sealing.trust_roots], "ar").status is Status.INTACT
    assert_pdf_a_3u(signed.pdf, "ar")
    record = read_record(signed.pdf)
    assert [s["role"] for s in record["signers"]] == roles
    assert [s["method"] for s in record["signers"]] == ["drawn"] * 3 + ["typed", "drawn"]
    assert signed.pages == Pdf(shown).pages
    with pikepdf.open(io.BytesIO(signed.pdf)) as pdf:
        width = float(pdf.pages[0].mediabox[2])
    placed = [box for page in range(signed.pages) for box in image_boxes(signed.pdf, page)]
    assert len(placed) == 4
    # Right to left: each signature starts at the right of its column, the first of three.
    assert all(right > 0.75 * width and left > 0.5 * width for left, _, right, _ in placed)
    assert Pdf(signed.pdf).contains("Omar Said")


def test_rendering_a_consents_record_again_gives_the_same_pdf() -> None:
    # Signing renders the shown consent again from its record: the same request and
    # generation time give the same bytes, so what was read is what gets signed.
    shown = dn_docs.render_document(make_request("zh_Hans")).pdf
    record = read_record(shown)
    again = dn_docs.render_document(
        parse_request(record["request"]),
        generated_at=dt.datetime.fromisoformat(record["generated_at"]),
    ).pdf
    assert again == shown


def test_a_signature_image_is_flattened_cropped_and_re_encoded() -> None:
    drawing = pad_drawing(3)
    with Image.open(io.BytesIO(drawing)) as original:
        assert original.mode == "RGBA" and original.size == (900, 300)
        ink = original.getbbox()
    placed = normalized_image(drawing)
    with Image.open(io.BytesIO(placed)) as image:
        assert image.mode == "RGB" and image.format == "PNG"
        assert ink is not None and image.size == (ink[2] - ink[0], ink[3] - ink[1])
        assert image.getpixel((0, 0)) == (255, 255, 255) or min(image.getpixel((0, 0))) < 200
        assert not image.info.get("text")


def _bad(shown: bytes, **changes: Any) -> list[dict]:
    return [{**_capture(shown, "patient", "Jordan Avery"), **changes}]


def _png(size: tuple[int, int], colour: tuple[int, ...]) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, "PNG")
    return out.getvalue()


BAD_CAPTURES = [
    ("not a png", {"image": b"GIF89a" + b"\0" * 40}, "signatures[0].image: is not a PNG image"),
    ("blank", {"image": _png((300, 100), (0, 0, 0, 0))}, "signatures[0].image: is blank"),
    ("huge file", {"image": b"\x89PNG\r\n\x1a\n" + b"\0" * 600_000}, "larger than 512 KiB"),
    ("huge image", {"image": _png((5000, 20), (0, 0, 0, 255))}, "pixels on a side"),
    ("naive time", {"signed_at": dt.datetime(2026, 11, 23, 14, 5)}, "signatures[0].signed_at: "),
    ("control in agent", {"user_agent": "Safari\x1b[31m"}, "signatures[0].user_agent: contains"),
    ("empty name", {"name": " "}, "signatures[0].name: must not be empty"),
    ("unknown role", {"role": "notary"}, "signatures[0].role: must be one of: patient"),
    ("no box", {"role": "guardian"}, "signatures[0].role: this document has no guardian"),
    ("minor", {"role": "minor"}, "signatures[0].role: this document has no minor signature box"),
    ("other document", {"document_sha256": "0" * 64}, "signatures[0].document_sha256: the"),
    ("extra field", {"ip": "10.0.0.1"}, "signatures[0].ip: is not a known field"),
]


@pytest.mark.parametrize(
    ("label", "changes", "message"), BAD_CAPTURES, ids=[c[0] for c in BAD_CAPTURES]
)
def test_bad_captures_are_refused_naming_the_field(
    shown: bytes, label: str, changes: dict, message: str
) -> None:
    with pytest.raises(RequestError) as caught:
        sign_consent(shown, _bad(shown, **changes))
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "Jordan Avery" not in str(caught.value)


def test_each_role_signs_once_and_someone_must_sign(shown: bytes) -> None:
    twice = _bad(shown) + _bad(shown)
    with pytest.raises(RequestError, match=r"signatures\[1\]\.role: patient signs only once"):
        sign_consent(shown, twice)
    with pytest.raises(RequestError, match="signatures: must have at least 1"):
        sign_consent(shown, [])


def test_a_changed_or_already_signed_consent_is_not_signed(
    sealing: DevCredentials, shown: bytes
) -> None:
    unsealed = dn_docs.render_document(
        make_request(screening={"blood_thinners": True}), sealing=None
    ).pdf
    # The precaution deleted and the record rewritten to match: its text no longer
    # hashes to the stamp the record and the footers carry.
    forged = deletion_attack(unsealed)
    with pytest.raises(RequestError, match="consent: its text has changed since it was shown"):
        sign_consent(forged, _bad(forged))
    # The same change to the sealed copy is caught by its seal.
    tampered = deletion_attack(shown)
    with pytest.raises(RequestError, match="consent: was changed after it was sealed"):
        sign_consent(tampered, _bad(tampered))
    signed = sign_consent(shown, _bad(shown)).pdf
    with pytest.raises(RequestError, match="consent: is signed already"):
        sign_consent(signed, _bad(signed))
    handout = dn_docs.render_document(make_request(kind="aftercare")).pdf
    with pytest.raises(RequestError, match="consent: is not a dn-docs consent form"):
        sign_consent(handout, _bad(handout))
    with pytest.raises(RequestError, match="consent: is not a readable PDF"):
        sign_consent(b"%PDF-1.7 nothing", _bad(shown))


@pytest.fixture
def changed_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The consent template as an update might change it: one sentence more."""
    folder = tmp_path / "templates"
    shutil.copytree(resources.templates_dir(), folder)
    consent = folder / "consent.html"
    consent.write_text(
        consent.read_text().replace(
            '<li>{{ both(N_("I agree', '<li>Also this.</li><li>{{ both(N_("I agree'
        )
    )
    assert "Also this." in consent.read_text()
    monkeypatch.setattr(resources, "templates_dir", lambda: folder)
    environment.cache_clear()
    yield
    environment.cache_clear()


def test_a_consent_shown_before_a_template_change_is_not_signed(
    shown: bytes, changed_template: None
) -> None:
    with pytest.raises(RequestError, match="render it again and show it to the signers"):
        sign_consent(shown, _bad(shown))


def test_a_signed_consent_must_be_sealed(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = dn_docs.render_document(make_request()).pdf
    with pytest.raises(SigningError, match="DN_DOCS_SIGNING_KEY: a signed consent must be sealed"):
        sign_consent(shown, _bad(shown))


def test_the_labels_the_boxes_are_found_by_are_translated() -> None:
    # The Arabic test finds boxes by position; this guards that its labels exist.
    assert load_translations("ar").gettext("Patient's signature") != "Patient's signature"
