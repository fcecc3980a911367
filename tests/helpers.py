"""Reading PDFs back for assertions: text per page, fonts, sizes, positions."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

import pikepdf
from pypdf import PdfReader

from dn_docs.batch.inputs import merge_defaults
from dn_docs.compose.text import squash
from dn_docs.examples import example_request

#: The share of a sentence's letters that :meth:`Pdf.pages_with` needs to find.
READ_BACK = 0.8


def make_request(locale: str = "en", kind: str = "consent", **changes: Any) -> dict[str, Any]:
    """An example request; a ``locale`` without an example profile keeps the English one."""
    try:
        base = example_request(locale, kind)
    except KeyError:
        base = {**example_request("en", kind), "locale": locale}
    return merge_defaults(base, changes)


def letters(text: str) -> str:
    """Only the letters and digits of ``text``, without vowel signs and other marks.

    Text extraction returns a right-to-left run's punctuation on the wrong side and may
    move a Devanagari vowel sign before its consonant; the letters and digits come back
    in order all the same.
    """
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


#: Invisible characters inside a word (Persian and Indic joiners), which text extraction drops.
JOINERS = frozenset("\u200c\u200d")


def words(text: str) -> list[str]:
    """The :func:`letters` of each word of ``text`` (words end at spaces and punctuation)."""
    spaced = "".join(
        ch if unicodedata.category(ch)[0] in "LMN" else "" if ch in JOINERS else " " for ch in text
    )
    return [word for word in map(letters, spaced.split()) if word]


@dataclass
class Tagged:
    """An element of a tagged PDF: its role, the pages it is drawn on, its elements."""

    role: str
    pages: set[int]
    kids: list[Tagged]

    def walk(self) -> Iterator[Tagged]:
        yield self
        for kid in self.kids:
            yield from kid.walk()

    def has(self, role: str) -> bool:
        return any(element.role == role for element in self.walk())


@dataclass
class Fragment:
    text: str
    x: float
    y: float
    size: float
    font: str


class Pdf:
    def __init__(self, data: bytes) -> None:
        assert data.startswith(b"%PDF-"), "not a PDF"
        self.data = data
        self.reader = PdfReader(io.BytesIO(data))
        self._page_texts: list[str] | None = None
        self._page_letters: list[str] | None = None
        self._page_words: list[set[str]] = []

    @property
    def pages(self) -> int:
        return len(self.reader.pages)

    def page_texts(self) -> list[str]:
        if self._page_texts is None:
            self._page_texts = [page.extract_text() or "" for page in self.reader.pages]
        return self._page_texts

    @property
    def text(self) -> str:
        return "\n".join(self.page_texts())

    def contains(self, sentence: str) -> bool:
        """True if ``sentence`` is printed, also when a page break splits it (the running
        header and footer then stand between its two parts in the extracted text)."""
        wanted = squash(sentence)
        pages = [squash(text) for text in self.page_texts()]
        if "(" not in wanted and ")" not in wanted:
            pages = [page.replace("(", "").replace(")", "") for page in pages]
        if any(wanted in page for page in pages):
            return True
        return any(
            wanted[:cut] in before and wanted[cut:] in after
            for before, after in itertools.pairwise(pages)
            for cut in range(4, len(wanted) - 3)
        )

    def pages_with(self, sentence: str) -> list[int]:
        """The pages (from 0) that print ``sentence``, compared by :func:`letters`.

        A page prints it when at least :data:`READ_BACK` of its letters read back in one
        unbroken run (some Devanagari ligatures read back without one of their letters)
        or as whole words of the page (a right-to-left line reads back with its parts
        between commas in the order they are drawn, and wraps split those parts).
        """
        if self._page_letters is None:
            self._page_letters = [letters(text) for text in self.page_texts()]
            self._page_words = [set(words(text)) for text in self.page_texts()]
        wanted, wanted_words = letters(sentence), words(sentence)
        needed = READ_BACK * len(wanted)
        found = []
        for number, text in enumerate(self._page_letters):
            run = SequenceMatcher(None, text, wanted, autojunk=False).find_longest_match()
            in_words = sum(len(w) for w in wanted_words if w in self._page_words[number])
            if run.size >= needed or in_words >= needed:
                found.append(number)
        return found

    def signature_pages(self) -> list[tuple[set[int], set[int]]]:
        """For each signature block of a consent, the pages of the consent statements it
        signs under and its own pages. Read from the tagged structure, whatever the
        script: a block holds a table of its own (the signature lines); its statements
        are the list before it."""
        pairs: list[tuple[set[int], set[int]]] = []
        statements: set[int] | None = None
        for element in self.structure().walk():
            if element.role == "/L":
                statements = element.pages
            elif element.role == "/Div" and any(kid.role == "/Table" for kid in element.kids):
                assert statements is not None, "a signature block before any consent statements"
                pairs.append((statements, element.pages))
        assert pairs, "no signature blocks"
        return pairs

    def structure(self) -> Tagged:
        """The PDF's tagged structure (headings, lists, tables, …), with the pages each
        element is drawn on."""
        with pikepdf.open(io.BytesIO(self.data)) as pdf:
            numbers = {page.objgen: number for number, page in enumerate(pdf.pages)}

            def read(element: Any) -> Tagged | None:
                if not isinstance(element, pikepdf.Dictionary):
                    return None
                kids = element.get("/K")
                children = [
                    read(kid) for kid in (kids if isinstance(kids, pikepdf.Array) else [kids])
                ]
                tagged = [child for child in children if child is not None]
                pages = {numbers[element.Pg.objgen]} if "/Pg" in element else set()
                for child in tagged:
                    pages |= child.pages
                return Tagged(str(element.get("/S", "")), pages, tagged)

            root = read(pdf.Root.StructTreeRoot)
            assert root is not None, "no tagged structure"
            return root

    def fragments(self, page: int | None = None) -> Iterator[Fragment]:
        pages = self.reader.pages if page is None else [self.reader.pages[page]]
        for pdf_page in pages:
            found: list[Fragment] = []

            def visit(
                text: str, cm: Any, tm: Any, font: Any, size: float, found: list = found
            ) -> None:
                if text.strip():
                    name = str(font.get("/BaseFont", "")) if font else ""
                    found.append(Fragment(text, tm[4] * cm[0] + cm[4], tm[5], size * tm[0], name))

            pdf_page.extract_text(visitor_text=visit)
            yield from found

    def fonts(self) -> set[str]:
        names: set[str] = set()
        for page in self.reader.pages:
            resources = page.get("/Resources", {})
            for font in resources.get("/Font", {}).values():
                names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
        return names

    @property
    def metadata(self) -> dict[str, str]:
        meta = self.reader.metadata or {}
        return {str(k): str(v) for k, v in meta.items()}

    @property
    def lang(self) -> str:
        return str(self.reader.trailer["/Root"].get("/Lang", ""))

    @property
    def page_size(self) -> tuple[int, int]:
        box = self.reader.pages[0].mediabox
        return round(float(box.width)), round(float(box.height))


#: Request fields that hold free text from the clinic or the patient.
TEXT_FIELDS = [
    ("patient", "name"),
    ("patient", "id"),
    ("practitioner", "name"),
    ("practitioner", "credentials"),
    ("practitioner", "license"),
    ("clinic", "name"),
    ("clinic", "address"),
]


#: Document information entries and the XMP properties PDF/A requires them to equal.
_INFO_IN_XMP = {
    "/Title": "dc:title",
    "/Author": "dc:creator",
    "/Subject": "dc:description",
    "/Creator": "xmp:CreatorTool",
    "/Producer": "pdf:Producer",
    "/Keywords": "pdf:Keywords",
    "/CreationDate": "xmp:CreateDate",
    "/ModDate": "xmp:ModifyDate",
}


def _pdf_date(value: str) -> dt.date:
    return dt.date(int(value[2:6]), int(value[6:8]), int(value[8:10]))


def assert_pdf_a_3u(data: bytes, lang: str) -> None:
    """The PDF/A-3u checks: identification, output intent, tags, language, embedded fonts,
    the record as an associated file, PDF 1.7, and Info entries that agree with the XMP."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        meta = pdf.open_metadata()
        assert meta.get("pdfaid:part") == "3" and meta.get("pdfaid:conformance") == "U"
        intents = pdf.Root.OutputIntents
        assert any(str(i.S) == "/GTS_PDFA1" and "/DestOutputProfile" in i for i in intents)
        assert "/StructTreeRoot" in pdf.Root and bool(pdf.Root.MarkInfo.Marked)
        assert str(pdf.Root.Lang) == lang
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
                descriptor = descendant.FontDescriptor
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), (
                    font.BaseFont
                )
        if "/Names" in pdf.Root and "/EmbeddedFiles" in pdf.Root.Names:
            assert [str(f.AFRelationship) for f in pdf.Root.AF] == ["/Data"]
        # PDF/A-3 is PDF 1.7: neither the header nor the catalog may say 2.0.
        assert pdf.pdf_version <= "1.7" and str(pdf.Root.get("/Version", "/1.7")) <= "/1.7"
        for key, prop in _INFO_IN_XMP.items():
            if key not in pdf.docinfo:
                continue
            info, xmp = str(pdf.docinfo[key]), meta.get(prop)
            assert xmp is not None, f"{key} has no XMP {prop}"
            if key.endswith("Date"):
                assert _pdf_date(info) == dt.date.fromisoformat(str(xmp)[:10]), (key, xmp)
            else:
                assert info == (", ".join(xmp) if isinstance(xmp, list) else xmp), (key, xmp)
