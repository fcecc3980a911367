"""Sealing: consents signed with the clinic's certificate on every render path, still
PDF/A-3u, readable by other tools, timestamped by a real timestamp authority."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
from pathlib import Path

import pikepdf
import pytest
from batch_support import Workers
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from helpers import Pdf, assert_pdf_a_3u, make_request
from signing_support import TimestampAuthority, assert_pyhanko_agrees, trust_roots_of, verified
from test_batch import shared_redis  # noqa: F401 - the batch tests' Redis database fixture

import dn_docs
from dn_docs import SigningError
from dn_docs.batch import LocalDispatcher, run_batch
from dn_docs.cli import main
from dn_docs.signing import DevCredentials, Status, verify_document
from dn_docs.signing.devca import CA_FILE, NOT_FOR_PRODUCTION, SIGNING_KEY_FILE

MOMENT = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


# The development CA ------------------------------------------------------------------------


def test_dev_ca_command_makes_certificates_named_not_for_production(tmp_path: Path) -> None:
    folder = tmp_path / "ca"
    result = CliRunner().invoke(main, ["certs", "dev-ca", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert set(lines) == {"DN_DOCS_SIGNING_KEY", "DN_DOCS_SIGNING_PASSWORD", "DN_DOCS_TRUST_ROOTS"}
    assert Path(lines["DN_DOCS_SIGNING_KEY"]) == (folder / SIGNING_KEY_FILE).resolve()
    assert Path(lines["DN_DOCS_TRUST_ROOTS"]) == (folder / CA_FILE).resolve()
    assert "NOT-FOR-PRODUCTION" in SIGNING_KEY_FILE and "NOT-FOR-PRODUCTION" in CA_FILE
    assert "NOT FOR PRODUCTION" in result.stderr
    key, certificate, chain = pkcs12.load_key_and_certificates(
        (folder / SIGNING_KEY_FILE).read_bytes(), lines["DN_DOCS_SIGNING_PASSWORD"].encode()
    )
    (ca,) = x509.load_pem_x509_certificates((folder / CA_FILE).read_bytes())
    assert key is not None and certificate is not None and chain == [ca]
    for name in (certificate.subject, ca.subject, certificate.issuer):
        assert NOT_FOR_PRODUCTION in name.rfc4514_string()
    assert (folder / SIGNING_KEY_FILE).stat().st_mode & 0o777 == 0o600
    again = CliRunner().invoke(main, ["certs", "dev-ca", "--out", str(folder)])
    assert again.exit_code == 1 and "exists" in again.stderr and "Traceback" not in again.output


# Sealing ---------------------------------------------------------------------------------


def test_render_command_seals_a_consent_and_verify_says_intact(
    sealing: DevCredentials, tmp_path: Path
) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(make_request()))
    out = tmp_path / "consent.pdf"
    rendered = CliRunner().invoke(main, ["render", str(request), "-o", str(out)])
    assert rendered.exit_code == 0 and "sealed" in rendered.output, rendered.output
    checked = CliRunner().invoke(main, ["verify", str(out)])
    assert checked.exit_code == 0, checked.output
    first, *report = checked.output.splitlines()
    assert first == f"{out}: intact"
    text = "\n".join(report)
    assert "dn-docs development clinic seal (NOT FOR PRODUCTION)" in text and "(trusted)" in text
    assert "signing time: " in text and "timestamp: none" in text
    assert "changes after signing: none" in text and "text: matches the consent record" in text
    result = verified(out.read_bytes(), tmp_path, [sealing.trust_roots], "rendered")
    assert result.status is Status.INTACT


def test_the_seal_is_an_incremental_update_after_the_rendered_bytes(
    sealing: DevCredentials,
) -> None:
    request = make_request("ar")
    unsealed = dn_docs.render_document(request, generated_at=MOMENT, sealing=None)
    sealed = dn_docs.render_document(request, generated_at=MOMENT)
    assert sealed.sealed and not unsealed.sealed
    assert sealed.pdf.startswith(unsealed.pdf) and len(sealed.pdf) > len(unsealed.pdf)
    with pikepdf.open(io.BytesIO(sealed.pdf)) as pdf, pikepdf.open(io.BytesIO(unsealed.pdf)) as raw:
        # The metadata PDF/A rests on is the rendered one, untouched.
        assert pdf.Root.Metadata.read_bytes() == raw.Root.Metadata.read_bytes()
        assert dict(pdf.docinfo) == dict(raw.docinfo)
        (field,) = pdf.Root.AcroForm.Fields
        assert str(field.FT) == "/Sig" and str(field.V.SubFilter) == "/ETSI.CAdES.detached"
        assert "/DocMDP" in pdf.Root.Perms


@pytest.mark.parametrize("locale", ["en", "ar", "zh_Hans"])
def test_a_sealed_consent_is_still_pdf_a_3u_and_opens_in_poppler_and_pikepdf(
    sealing: DevCredentials, tmp_path: Path, locale: str
) -> None:
    document = dn_docs.render_document(make_request(locale), generated_at=MOMENT)
    assert document.sealed
    assert_pdf_a_3u(document.pdf, Pdf(document.pdf).lang)
    path, unsealed = tmp_path / "sealed.pdf", tmp_path / "unsealed.pdf"
    path.write_bytes(document.pdf)
    unsealed.write_bytes(
        dn_docs.render_document(make_request(locale), generated_at=MOMENT, sealing=None).pdf
    )
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert f"Pages:           {document.pages}" in info.stdout
    assert "PDF version:     1.7" in info.stdout and "Tagged:          yes" in info.stdout
    text = [
        subprocess.run(["pdftotext", str(p), "-"], capture_output=True, text=True, check=True)
        for p in (path, unsealed)
    ]
    assert text[0].stdout == text[1].stdout  # poppler reads the sealed text as it was
    assert text[0].stdout.count(document.composed.text_hash[:12]) == document.pages
    signatures = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=True)
    assert "Signature is Valid." in signatures.stdout
    assert "Total document signed" in signatures.stdout
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) == document.pages
        assert pdf.check_pdf_syntax() == []  # qpdf reads every object


def test_handouts_are_sealed_only_when_the_setting_says_so(
    sealing: DevCredentials, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    handout = make_request(kind="aftercare")
    assert not dn_docs.render_document(handout).sealed
    monkeypatch.setenv("DN_DOCS_SEAL_HANDOUTS", "1")
    sealed = dn_docs.render_document(handout)
    assert sealed.sealed
    result = verify_document(sealed.pdf)
    assert result.status is Status.INTACT and result.text is None
    assert any("no consent record" in note for note in result.notes)
    assert_pdf_a_3u(sealed.pdf, "en")
    assert verified(sealed.pdf, tmp_path, [sealing.trust_roots], "handout").status is Status.INTACT


def test_a_caller_can_seal_with_a_clinic_key_of_its_own(
    sealing: DevCredentials, other_ca: DevCredentials
) -> None:
    from dn_docs.signing import Sealing, SigningKey

    key = SigningKey.from_pkcs12(other_ca.signing_key, other_ca.password, "clinic.signing_key")
    document = dn_docs.render_document(make_request(), sealing=Sealing(key))
    result = verify_document(document.pdf)
    assert result.status is Status.UNTRUSTED  # the environment trusts only the first CA
    other = verify_document(document.pdf, trust_roots=trust_roots_of(other_ca))
    assert other.status is Status.INTACT and other.seals[0].signer == result.seals[0].signer


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DN_DOCS_SIGNING_PASSWORD", "not the passphrase", "DN_DOCS_SIGNING_PASSWORD: wrong"),
        ("DN_DOCS_SIGNING_KEY", "/nonexistent/key.p12", "DN_DOCS_SIGNING_KEY: "),
        ("DN_DOCS_TSA_URL", "ftp://127.0.0.1/", "DN_DOCS_TSA_URL: not an http(s) URL"),
    ],
)
def test_a_wrong_key_setting_is_a_one_line_error_and_nothing_is_written(
    sealing: DevCredentials,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    request = tmp_path / "request.json"
    request.write_text(json.dumps(make_request()))
    out = tmp_path / "consent.pdf"
    result = CliRunner().invoke(main, ["render", str(request), "-o", str(out)])
    assert result.exit_code == 1 and result.stderr.startswith(f"dn-docs: error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()
    batch = CliRunner().invoke(
        main, ["batch", str(request), "--out", str(tmp_path / "batch"), "--workers", "1"]
    )
    assert batch.exit_code == 1 and message in batch.stderr
    assert not (tmp_path / "batch").exists()


def test_a_batch_on_the_local_pool_seals_every_consent(
    sealing: DevCredentials, tmp_path: Path
) -> None:
    source = tmp_path / "rows.jsonl"
    rows = [make_request(locale) for locale in ("en", "es", "ar")] + [
        make_request(kind="aftercare")
    ]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out"
    summary = run_batch(source, out, LocalDispatcher(workers=2))
    assert summary.done == 4
    consents = sorted(out.glob("0*-consent-*.pdf"))
    assert len(consents) == 3
    for path in consents:
        assert verify_document(path.read_bytes()).status is Status.INTACT, path.name
    (handout,) = out.glob("0*-aftercare-*.pdf")
    assert verify_document(handout.read_bytes()).status is Status.UNSIGNED
    # The print stack has the pages, not three seals that would not match its bytes.
    stack = out / "merged-consent.pdf"
    with pikepdf.open(stack) as merged:
        assert len(merged.pages) == sum(Pdf(p.read_bytes()).pages for p in consents)
        assert not any("/Annots" in page for page in merged.pages)
    assert verify_document(stack.read_bytes()).status is Status.UNSIGNED


# Timestamps --------------------------------------------------------------------------------


def test_a_seal_carries_the_timestamp_authoritys_timestamp(
    sealing: DevCredentials,
    timestamp_authority: TimestampAuthority,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DN_DOCS_TSA_URL", timestamp_authority.url)
    trust = [sealing.trust_roots, timestamp_authority.trust_root]
    monkeypatch.setenv("DN_DOCS_TRUST_ROOTS", os.pathsep.join(str(p) for p in trust))
    dn_docs.render_document(make_request("es"))  # the client's first seal asks twice
    issued = timestamp_authority.issued
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    document = dn_docs.render_document(make_request())
    after = dt.datetime.now(dt.UTC)
    assert timestamp_authority.issued == issued + 1  # one timestamp for one seal
    assert_pdf_a_3u(document.pdf, "en")
    result = verify_document(document.pdf)
    assert result.status is Status.INTACT, result
    (seal,) = result.seals
    assert seal.timestamp is not None and seal.timestamp.trusted and seal.timestamp.intact
    assert seal.timestamp.authority.startswith("dn-docs test timestamp authority")
    assert before - dt.timedelta(seconds=1) <= seal.timestamp.time <= after
    path = tmp_path / "stamped.pdf"
    path.write_bytes(document.pdf)
    assert_pyhanko_agrees(path, result, trust)
    shown = CliRunner().invoke(main, ["verify", str(path)])
    assert shown.exit_code == 0
    assert "timestamp: " in shown.output and "from dn-docs test timestamp authority" in shown.output
    # Without the authority's CA among the trust roots, its timestamp is not trusted.
    monkeypatch.setenv("DN_DOCS_TRUST_ROOTS", str(sealing.trust_roots))
    untrusted = verify_document(document.pdf)
    assert untrusted.status is Status.UNTRUSTED and untrusted.exit_status == 2
    assert untrusted.seals[0].timestamp is not None
    assert not untrusted.seals[0].timestamp.trusted


def test_an_unreachable_timestamp_authority_is_a_clear_error(
    sealing: DevCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    from batch_support import free_port

    url = f"http://127.0.0.1:{free_port()}/"
    monkeypatch.setenv("DN_DOCS_TSA_URL", url)
    with pytest.raises(SigningError, match=f"timestamp authority at {url} did not answer"):
        dn_docs.render_document(make_request())


@pytest.mark.broker
def test_a_batch_on_celery_workers_seals_every_consent(
    sealing: DevCredentials,
    shared_redis: str,  # noqa: F811 - the fixture imported from test_batch
    tmp_path: Path,
) -> None:
    source = tmp_path / "rows.jsonl"
    rows = [make_request(locale) for locale in ("en", "es", "fr")]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    logs = tmp_path / "logs"
    logs.mkdir()
    keys = dict(line.split("=", 1) for line in sealing.environment_lines())
    pool = Workers(shared_redis, logs, **keys)
    try:
        pool.start(count=1)
        out = tmp_path / "out"
        summary = run_batch(source, out, pool.dispatcher())
    finally:
        pool.stop()
    assert summary.done == 3
    for path in sorted(out.glob("0*-consent-*.pdf")):
        result = verify_document(path.read_bytes())
        assert result.status is Status.INTACT, (path.name, result)
    assert "DN_DOCS_SIGNING_PASSWORD" not in pool.log(0) and sealing.password not in pool.log(0)
