"""Sealing tests' parts: a real timestamp authority process, pyHanko's own validator,
an attacker's two ways of changing a consent, and where things are drawn on a page."""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image, ImageDraw
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader

from dn_docs.compose.text import squash
from dn_docs.pdf.fingerprint import text_fingerprint
from dn_docs.record import RECORD_NAME, read_record
from dn_docs.signing import DevCA, DevCredentials, DocumentVerification, Status, verify_document

TESTS = Path(__file__).resolve().parent
PYHANKO = str(Path(sys.executable).with_name("pyhanko"))

#: The precaution a patient on blood thinners gets (catalog item precaution.blood_thinners).
PRECAUTION = "Taking medicine that thins the blood (a blood thinner)"
FAKE_NAME = "Someone Else"


# A signature pad -----------------------------------------------------------------------


def pad_drawing(seed: int = 1, size: tuple[int, int] = (900, 300)) -> bytes:
    """A PNG as a browser's signature pad exports it: transparent, with anti-aliased
    strokes in ink blue, a pen path that wanders like handwriting."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    width, height = size
    for stroke in range(3):
        points = [
            (
                width * (0.1 + 0.25 * stroke) + step * 3.2,
                height * 0.5 + height * 0.25 * math.sin((step + seed * 7) / (4 + stroke)),
            )
            for step in range(60)
        ]
        pen.line(points, fill=(18, 42, 140, 255), width=7, joint="curve")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# A timestamp authority ----------------------------------------------------------------


@dataclass
class TimestampAuthority:
    url: str
    trust_root: Path
    log: Path
    process: subprocess.Popen[str]

    @property
    def issued(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


def start_timestamp_authority(folder: Path) -> TimestampAuthority:
    """A TSA process on 127.0.0.1 with a certificate from a CA of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = DevCA.create(" for timestamps")
    certificate, key = ca.issue("dn-docs test timestamp authority", "timestamping")
    (folder / "tsa-ca.pem").write_bytes(ca.pem)
    (folder / "tsa.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa-key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    log = folder / "issued.log"
    process = subprocess.Popen(
        [
            sys.executable,
            str(TESTS / "tsa_server.py"),
            str(folder / "tsa.pem"),
            str(folder / "tsa-key.pem"),
            str(log),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return TimestampAuthority(f"http://127.0.0.1:{port}/", folder / "tsa-ca.pem", log, process)


# pyHanko's own validator ------------------------------------------------------------------


def pyhanko_validate(path: Path, trust: list[Path]) -> tuple[int, dict[str, list[str]]]:
    """pyHanko's command-line validator on ``path``: its exit status and, per signature
    field, the words of its summary (INTACT or INVALID, TRUSTED, UNTOUCHED, …)."""
    command = [PYHANKO, "sign", "validate", "--trust-replace"]
    for root in trust:
        command += ["--trust", str(root)]
    done = subprocess.run(
        [*command, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    seals: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        if line.count(":") >= 2:
            name, _fingerprint, verdict = line.split(":", 2)
            seals[name] = re.split(r"[:,]", verdict)
    return done.returncode, seals


def assert_pyhanko_agrees(path: Path, result: DocumentVerification, trust: list[Path]) -> None:
    """pyHanko's validator sees the same seals, judged the same way, as ``dn-docs verify``."""
    status, seals = pyhanko_validate(path, trust)
    assert set(seals) == {seal.field for seal in result.seals}, (seals, result)
    for seal in result.seals:
        words = seals[seal.field]
        assert ("INTACT" in words) == seal.intact, (words, seal)
        assert ("TRUSTED" in words) == (seal.intact and seal.trusted), (words, seal)
        assert ("UNTOUCHED" in words) == seal.covers_whole_file, (words, seal)
        has_timestamp = any(word.startswith("TIMESTAMP_TOKEN<") for word in words)
        assert has_timestamp == (seal.timestamp is not None), (words, seal)
    if result.status is Status.UNSIGNED:
        assert not seals
    elif result.status is Status.INTACT:
        assert status == 0
    elif result.seals and (result.status is Status.UNTRUSTED or result.status is Status.MODIFIED):
        assert status != 0, (status, seals, result)


def verified(data: bytes, folder: Path, trust: list[Path], name: str) -> DocumentVerification:
    """``verify_document`` on ``data``, saved as ``name``.pdf, with pyHanko agreeing."""
    path = folder / f"{name}.pdf"
    path.write_bytes(data)
    result = verify_document(data)
    assert_pyhanko_agrees(path, result, trust)
    return result


def trust_roots_of(credentials: DevCredentials) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(credentials.trust_roots.read_bytes())


# Where text and images are drawn ------------------------------------------------------------


@dataclass
class Drawn:
    page: int
    text: str
    x: float
    y: float  # baseline, in PDF user space (origin bottom left)
    size: float
    raw_y: float  # the text matrix's y as the content stream writes it


def drawn_text(data: bytes) -> Iterator[Drawn]:
    for index, page in enumerate(PdfReader(io.BytesIO(data)).pages):
        found: list[Drawn] = []

        def visit(
            text: str,
            cm: Any,
            tm: Any,
            font: Any,
            size: float,
            found: list[Drawn] = found,
            index: int = index,
        ) -> None:
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                found.append(Drawn(index, text, x, y, abs(size * tm[0] * cm[0]), tm[5]))

        page.extract_text(visitor_text=visit)
        yield from found


def where(data: bytes, sentence: str) -> list[Drawn]:
    """The pieces of text that draw ``sentence``: those that are exactly it, else those
    that hold it, else the pieces of 10 characters or more it was broken into."""
    wanted = squash(sentence)
    pieces = list(drawn_text(data))
    return (
        [piece for piece in pieces if squash(piece.text) == wanted]
        or [piece for piece in pieces if wanted in squash(piece.text)]
        or [p for p in pieces if len(squash(p.text)) >= 10 and squash(p.text) in wanted]
    )


def image_boxes(data: bytes, page_index: int) -> list[tuple[float, float, float, float]]:
    """Each image drawn on the page, as (left, bottom, right, top) in user space."""
    boxes = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[page_index]
        images = {
            name
            for name, item in page.Resources.get("/XObject", {}).items()
            if item.get("/Subtype") == "/Image"
        }
        stack = [pikepdf.Matrix()]
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op == "q":
                stack.append(stack[-1])
            elif op == "Q":
                stack.pop()
            elif op == "cm":
                stack[-1] = pikepdf.Matrix(*[float(v) for v in operands]) @ stack[-1]
            elif op == "Do" and str(operands[0]) in images:
                m = stack[-1]
                xs = [m.e, m.a + m.e, m.c + m.e, m.a + m.c + m.e]
                ys = [m.f, m.b + m.f, m.d + m.f, m.b + m.d + m.f]
                boxes.append((min(xs), min(ys), max(xs), max(ys)))
    return boxes


# An attacker's changes ------------------------------------------------------------------


def rewritten(data: bytes) -> bytes:
    """The file saved anew by a PDF library: every byte rewritten, the seal's range stale."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(out)
    return out.getvalue()


def _helvetica() -> generic.DictionaryObject:
    return generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Font"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Type1"),
            generic.pdf_name("/BaseFont"): generic.pdf_name("/Helvetica"),
        }
    )


def overlay_attack(data: bytes) -> bytes:
    """Attack 1, appended as an incremental update: on every page a form XObject paints
    white boxes over the patient's name and prints another one in its place, and a
    white box hides the blood-thinner precaution. The pages' own content streams, and
    so the text objects the record hashes, are left exactly as they were."""
    name = read_record(data)["request"]["patient"]["name"]
    covered = where(data, name) + where(data, PRECAUTION)
    assert covered, "neither the name nor the precaution is printed"
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    for index in sorted({piece.page for piece in covered}):
        drawing = [b"1 1 1 rg"]
        for piece in covered:
            if piece.page == index:
                drawing.append(
                    b"%.2f %.2f %.2f %.2f re f"
                    % (
                        piece.x - 1,
                        piece.y - 0.4 * piece.size,
                        0.62 * piece.size * len(piece.text) + 4,
                        1.5 * piece.size,
                    )
                )
        for piece in covered:
            if piece.page == index and squash(name) in squash(piece.text):
                drawing.append(
                    b"0 0 0 rg BT /Fake %.2f Tf %.2f %.2f Td (%s) Tj ET"
                    % (piece.size, piece.x, piece.y, FAKE_NAME.encode())
                )
        form = generic.StreamObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
                generic.pdf_name("/BBox"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in (0, 0, 2000, 2000)]
                ),
                generic.pdf_name("/Resources"): generic.DictionaryObject(
                    {
                        generic.pdf_name("/Font"): generic.DictionaryObject(
                            {generic.pdf_name("/Fake"): _helvetica()}
                        )
                    }
                ),
            },
            stream_data=b"\n".join(drawing),
        )
        form_ref = writer.add_object(form)
        # The page's own stream leaves its coordinate system flipped: wrap it in q … Q.
        writer.add_stream_to_page(
            index, writer.add_object(generic.StreamObject(stream_data=b"q")), prepend=True
        )
        writer.add_stream_to_page(
            index,
            writer.add_object(generic.StreamObject(stream_data=b"Q q /Tamper%d Do Q" % index)),
            resources=generic.DictionaryObject(
                {
                    generic.pdf_name("/XObject"): generic.DictionaryObject(
                        {generic.pdf_name(f"/Tamper{index}"): form_ref}
                    )
                }
            ),
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_TEXT_OBJECT = re.compile(rb"\bBT\b.*?\bET\b", re.DOTALL)
_TEXT_MATRIX = re.compile(rb"([-\d.]+) ([-\d.]+) Tm")


def deletion_attack(data: bytes) -> bytes:
    """Attack 2, appended as an incremental update: the text objects that print the
    blood-thinner precaution are deleted, the page's text hash is recomputed as
    record.py computes it, and consent-record.json is rewritten to match, with
    blood_thinners false and the precaution gone from the content items."""
    pieces = where(data, PRECAUTION)
    assert pieces, "the consent does not print the precaution"
    index = pieces[0].page
    heights = {round(piece.raw_y, 2) for piece in pieces}
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    page_ref, _ = writer.find_page_for_modification(index)
    page = page_ref.get_object()
    content = page["/Contents"].data

    def keep(block: re.Match[bytes]) -> bytes:
        matrix = _TEXT_MATRIX.search(block.group(0))
        if matrix and round(float(matrix.group(2)), 2) in heights:
            return b""
        return block.group(0)

    edited = _TEXT_OBJECT.sub(keep, content)
    assert edited != content
    page[generic.pdf_name("/Contents")] = writer.add_object(
        generic.StreamObject(stream_data=edited)
    )
    writer.update_container(page)

    record = read_record(data)
    record["request"]["screening"]["blood_thinners"] = False
    record["content_items"].remove("precaution.blood_thinners")
    record["page_text_sha256"][index] = text_fingerprint(edited)
    forged = json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    position = [str(item) for item in names].index(RECORD_NAME)
    filespec = names[position + 1].get_object()
    stream = writer.add_object(
        generic.StreamObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/EmbeddedFile"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/application#2Fjson"),
            },
            stream_data=forged,
        )
    )
    filespec[generic.pdf_name("/EF")] = generic.DictionaryObject(
        {generic.pdf_name("/F"): stream, generic.pdf_name("/UF"): stream}
    )
    writer.update_container(filespec)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
