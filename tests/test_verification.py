"""Verification of sealed consents: the two tamper attacks that fooled the text check,
a seal from someone else's certificate, an unsigned copy; pyHanko's own validator
agrees with ``dn-docs verify`` on every file."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import Pdf, make_request
from signing_support import (
    FAKE_NAME,
    PRECAUTION,
    assert_pyhanko_agrees,
    deletion_attack,
    overlay_attack,
    rewritten,
    trust_roots_of,
    verified,
)

import dn_docs
from dn_docs.cli import main
from dn_docs.record import compare_text, read_record
from dn_docs.signing import (
    DevCredentials,
    Sealing,
    SigningKey,
    Status,
    seal_pdf,
    verify_document,
)

MOMENT = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
ON_BLOOD_THINNERS = {"screening": {"blood_thinners": True}}

Attack = Callable[[bytes], bytes]
ATTACKS: dict[str, Attack] = {
    "overlay": overlay_attack,
    "deletion": deletion_attack,
    "overlay-rewritten": lambda data: rewritten(overlay_attack(data)),
    "deletion-rewritten": lambda data: rewritten(deletion_attack(data)),
}


def _consent(sealing: Sealing | None) -> bytes:
    return dn_docs.render_document(
        make_request(**ON_BLOOD_THINNERS), generated_at=MOMENT, sealing=sealing
    ).pdf


@pytest.fixture(scope="module")
def clinic_sealing(dev_ca: DevCredentials) -> Sealing:
    return Sealing(SigningKey.from_pkcs12(dev_ca.signing_key, dev_ca.password))


@pytest.fixture(scope="module")
def sealed(clinic_sealing: Sealing) -> bytes:
    return _consent(clinic_sealing)


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return _consent(None)


def _cli(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["verify", str(path)])
    return result.exit_code, result.output


def _check(data: bytes, tmp_path: Path, trust: list[Path], name: str) -> tuple[Status, str, int]:
    """verify_document's status, the CLI's first line and exit status; pyHanko agrees."""
    result = verified(data, tmp_path, trust, name)
    code, output = _cli(tmp_path / f"{name}.pdf")
    assert code == result.exit_status
    return result.status, output.splitlines()[0], code


def test_a_sealed_consent_is_intact_and_trusted(
    sealing: DevCredentials, sealed: bytes, tmp_path: Path
) -> None:
    status, first, code = _check(sealed, tmp_path, [sealing.trust_roots], "sealed")
    assert (status, code) == (Status.INTACT, 0) and first.endswith(": intact")


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_each_tamper_attack_on_a_sealed_consent_is_reported_modified(
    sealing: DevCredentials, sealed: bytes, unsigned: bytes, tmp_path: Path, attack: str
) -> None:
    tamper = ATTACKS[attack]
    # Without a seal the attack works: the text still matches the (rewritten) record.
    fooled = tamper(unsigned)
    assert compare_text(fooled).matches
    assert verify_document(fooled).status is Status.UNSIGNED  # never "intact" again
    # It changed what a reader sees.
    shown = Pdf(fooled)
    if attack.startswith("overlay"):
        assert FAKE_NAME in shown.text
    else:
        assert not shown.contains(PRECAUTION)
        assert read_record(fooled)["request"]["screening"]["blood_thinners"] is False
    # With the seal it is caught.
    status, first, code = _check(tamper(sealed), tmp_path, [sealing.trust_roots], attack)
    assert (status, code) == (Status.MODIFIED, 1), first
    assert ": modified: ClinicSeal: " in first


def test_the_overlay_is_named_as_a_change_after_sealing(
    sealing: DevCredentials, sealed: bytes
) -> None:
    result = verify_document(overlay_attack(sealed))
    (seal,) = result.seals
    # The sealed revision itself is untouched and trusted: what came after is the change.
    assert seal.intact and seal.trusted and not seal.covers_whole_file
    assert seal.changes_after_signing == "the content was changed"
    assert result.text is not None and result.text.matches  # the record alone is fooled


def test_a_consent_resealed_with_another_certificate_has_an_untrusted_signer(
    sealing: DevCredentials,
    other_ca: DevCredentials,
    sealed: bytes,
    unsigned: bytes,
    tmp_path: Path,
) -> None:
    theirs = Sealing(SigningKey.from_pkcs12(other_ca.signing_key, other_ca.password))
    resealed = seal_pdf(unsigned, theirs)
    status, first, code = _check(resealed, tmp_path, [sealing.trust_roots], "resealed")
    assert (status, code) == (Status.UNTRUSTED, 2)
    assert "is not trusted" in first
    # The same for a tampered copy sealed by the tamperer: not intact, not the clinic's.
    forged = seal_pdf(deletion_attack(unsigned), theirs)
    status, _, code = _check(forged, tmp_path, [sealing.trust_roots], "forged")
    assert (status, code) == (Status.UNTRUSTED, 2)
    # Whoever trusts that other CA sees an intact document by another signer.
    other_result = verify_document(resealed, trust_roots=trust_roots_of(other_ca))
    assert other_result.status is Status.INTACT
    clinic = verify_document(sealed).seals[0]
    assert other_result.seals[0].certificate_sha256 != clinic.certificate_sha256


def test_an_unsigned_copy_reports_unsigned(
    sealing: DevCredentials, unsigned: bytes, tmp_path: Path
) -> None:
    status, first, code = _check(unsigned, tmp_path, [sealing.trust_roots], "unsigned")
    assert (status, code) == (Status.UNSIGNED, 2)
    assert first.endswith(": unsigned: the document carries no seal")


def test_without_trust_roots_every_seal_is_untrusted(
    sealing: DevCredentials, sealed: bytes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DN_DOCS_TRUST_ROOTS")
    result = verify_document(sealed)
    assert result.status is Status.UNTRUSTED and result.exit_status == 2
    assert "no trust roots are configured (DN_DOCS_TRUST_ROOTS)" in result.problems
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)
    assert_pyhanko_agrees(path, result, [])


def test_the_report_is_json_and_carries_no_patient_data(
    sealing: DevCredentials, sealed: bytes
) -> None:
    report = verify_document(overlay_attack(sealed)).as_dict()
    text = json.dumps(report)
    assert report["status"] == "modified" and report["exit_status"] == 1
    assert report["seals"][0]["signer"].startswith("dn-docs development clinic seal")
    assert report["seals"][0]["changes_after_signing"] == "the content was changed"
    assert report["text"] == {"matches_record": True, "problems": [], "pages": Pdf(sealed).pages}
    for secret in ("Jordan Avery", "DEMO-0001", "1971-02-02", FAKE_NAME):
        assert secret not in text


def test_unreadable_trust_roots_are_a_one_line_error(
    sealing: DevCredentials, sealed: bytes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bogus = tmp_path / "roots.pem"
    bogus.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv("DN_DOCS_TRUST_ROOTS", str(bogus))
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)
    result = CliRunner().invoke(main, ["verify", str(path)])
    assert result.exit_code == 1
    assert result.stderr == f"dn-docs: error: DN_DOCS_TRUST_ROOTS: {bogus} holds no certificate\n"
