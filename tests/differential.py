"""Varied valid requests, and warm renders compared byte for byte with renders from scratch.

:func:`requests` makes a seeded, reproducible run of requests: every locale (and some
of the tags that negotiate to one), both kinds, every option (PDF/A on and off, large
print, bilingual, language help), one to fifteen areas in any order, minors, clinics in
another language (the interpreter's attestation), Letter and A4 countries, PNG and SVG
logos, names from one character to the limit in mixed scripts, and requests repeated
exactly or with one thing changed. :func:`compare` renders them in that order with one
warm renderer and each of them again from scratch, in another process.

Used by ``tests/test_differential.py`` (a bounded run) and by
``benchmarks/differential.py`` (a long one).
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import random
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from dn_docs import locales
from dn_docs.pdf import WeasyPrintRenderer
from dn_docs.pipeline import render_document
from dn_docs.request import MAX_NAME, Area, Condition, Screening

#: The consent records' time: the same for both renders of a request.
GENERATED_AT = dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC)

ALPHABETS = {
    "latin": "abcdefghijklmnopqrstuvwxyzáéíóúñçüößøåłżśćęąčšžěřőűâêîôûàèìòùãõ",
    "vietnamese": "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "greek": "αβγδεζηθικλμνξοπρστυφχψω",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهويپچژگ",
    "hebrew": "אבגדהוזחטיכלמנסעפצקרשת",
    "devanagari": "अआइईउऊएओकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह",
    "hangul": "김이박최정강조윤장임한오서신권황안송류홍민준서연지우",
    "han": "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗美玲小明堃",
    "kana": "あいうえおかきくけこさしすせそたちつてとアイウエオカキクケコ",
}
#: Devanagari vowel signs, added after a consonant.
MATRAS = "ािीुूेैोौं"
LETTER_COUNTRIES = ("US", "CA")
A4_COUNTRIES = ("GB", "DE", "ES", "FR", "SA", "CN", "TW", "JP", "KR", "IN", "IR", "IL", "BR")
A4_COUNTRIES += ("RU", "PL", "VN", "PH", "HT", "MX", "AU")
LOCALE_TAGS = (*locales.SUPPORTED, "es-MX", "zh-CN", "zh-TW", "pt", "fil", "en-GB", "fr-CA")
CREDENTIALS = ("PT, DPT", "PT", "DC", "LAc, DACM", "Physiotherapist, MSc", "OT")
#: The answers that refuse a consent; the others print as precautions.
ABSOLUTE = {"local_infection": False, "needle_phobia": False, "able_to_consent": True}
RELATIVE = tuple(name for name in Screening.model_fields if name not in ABSOLUTE)
LOGOS = ("logo.png", "logo.svg", "brand/mark.png")


def write_logos(folder: Path) -> None:
    """The logos the requests name, in an assets folder (``DN_DOCS_ASSETS_DIR``)."""
    image = Image.new("RGB", (24, 12), (29, 111, 138))
    png = io.BytesIO()
    image.save(png, format="PNG")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20">'
        '<rect width="40" height="20" rx="4" fill="#1d6f8a"/>'
        '<circle cx="10" cy="10" r="6" fill="#fff"/></svg>'
    )
    (folder / "brand").mkdir(parents=True, exist_ok=True)
    (folder / "logo.png").write_bytes(png.getvalue())
    (folder / "brand" / "mark.png").write_bytes(png.getvalue())
    (folder / "logo.svg").write_text(svg, encoding="utf-8")


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.today = dt.date.today()

    def word(self, alphabet: str, length: int) -> str:
        rng = self.rng
        if alphabet == ALPHABETS["devanagari"]:
            letters = [rng.choice(alphabet) + rng.choice(("", *MATRAS)) for _ in range(length)]
            return "".join(letters)[: max(length, 1)]
        word = "".join(rng.choice(alphabet) for _ in range(length))
        return word[:1].upper() + word[1:]

    def name(self, limit: int = MAX_NAME) -> str:
        """A name from one character to ``limit``, in one to three scripts."""
        rng = self.rng
        quarter = limit // 4
        size = rng.choice([1, 2, 3, rng.randint(4, quarter), rng.randint(quarter, limit), limit])
        scripts = rng.sample(sorted(ALPHABETS), rng.choice([1, 1, 2, 3]))
        words: list[str] = []
        while sum(len(word) + 1 for word in words) < size:
            words.append(self.word(ALPHABETS[rng.choice(scripts)], rng.randint(1, 12)))
            if rng.random() < 0.1:
                words.append(rng.choice(["-", "'", "de", "van", "bin", "Jr."]))
        name = " ".join(words)[:size].strip(" -'")
        return name or self.word(ALPHABETS["latin"], 1)

    def date_of_birth(self, session: dt.date) -> dt.date:
        rng = self.rng
        years = rng.choice([rng.randint(1, 17), rng.randint(18, 95), 17, 18])
        born = session - dt.timedelta(days=int(years * 365.25) + rng.randint(-200, 200))
        return min(born, self.today)

    def request(self) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choice(["consent", "aftercare"])
        locale = rng.choice(LOCALE_TAGS)
        country = rng.choice(LETTER_COUNTRIES if rng.random() < 0.35 else A4_COUNTRIES)
        session = self.today + dt.timedelta(days=rng.randint(0, 400))
        areas = [area.value for area in rng.sample(list(Area), rng.randint(1, len(Area)))]
        clinic_language = locale if rng.random() < 0.5 else rng.choice(list(locales.SUPPORTED))
        request: dict[str, Any] = {
            "kind": kind,
            "locale": locale,
            "patient": {
                "name": self.name(),
                "date_of_birth": self.date_of_birth(session).isoformat(),
            },
            "practitioner": {"name": self.name(60), "credentials": rng.choice(CREDENTIALS)},
            "clinic": {
                "name": self.name(rng.choice([20, 80])),
                "phone": f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "country": country,
                "language": clinic_language,
            },
            "session": {
                "date": session.isoformat(),
                "areas": areas,
                "electrical_stimulation": rng.random() < 0.3,
            },
            "options": {
                "large_print": rng.random() < 0.25,
                "bilingual": rng.random() < 0.25,
                "language_assistance": rng.random() < 0.25,
                "pdf_a": rng.random() < 0.8,
            },
        }
        if rng.random() < 0.8:
            request["patient"]["id"] = f"{rng.choice(['P', 'MRN', 'Q'])}-{rng.randint(1, 99999)}"
        if rng.random() < 0.7:
            request["practitioner"]["license"] = f"PT-{rng.randint(100, 99999):05d}"
        if rng.random() < 0.7:
            request["clinic"]["address"] = f"{rng.randint(1, 999)} {self.name(40)}"
        if rng.random() < 0.3:
            request["clinic"]["logo"] = rng.choice(LOGOS)
        if rng.random() < 0.8:
            request["session"]["condition"] = rng.choice(list(Condition)).value
        if rng.random() < 0.6:
            next_visit = session + dt.timedelta(days=rng.randint(0, 30))
            request["session"]["next_appointment"] = next_visit.isoformat()
        if kind == "consent" or rng.random() < 0.3:
            screening = {name: rng.random() < 0.2 for name in RELATIVE}
            request["screening"] = {**screening, **ABSOLUTE}
        return request

    def near_repeat(self, earlier: dict[str, Any]) -> dict[str, Any]:
        """``earlier`` with one thing changed."""
        rng = self.rng
        request = copy.deepcopy(earlier)
        change = rng.choice(["name", "id", "birth", "area", "option", "date", "kind"])
        if change == "name":
            name = request["patient"]["name"]
            at = rng.randrange(len(name))
            request["patient"]["name"] = (name[:at] + rng.choice("aeiouxyz") + name[at + 1 :])[
                :MAX_NAME
            ]
        elif change == "id":
            request["patient"]["id"] = f"P-{rng.randint(1, 99999)}"
        elif change == "birth":
            session = dt.date.fromisoformat(request["session"]["date"])
            request["patient"]["date_of_birth"] = self.date_of_birth(session).isoformat()
        elif change == "area":
            areas = request["session"]["areas"]
            missing = [area.value for area in Area if area.value not in areas]
            if missing and (len(areas) == 1 or rng.random() < 0.5):
                areas.insert(rng.randint(0, len(areas)), rng.choice(missing))
            else:
                areas.pop(rng.randrange(len(areas)))
        elif change == "option":
            option = rng.choice(["large_print", "bilingual", "language_assistance", "pdf_a"])
            request["options"][option] = not request["options"][option]
        elif change == "date":
            request["session"].pop("next_appointment", None)
            session = dt.date.fromisoformat(request["session"]["date"]) + dt.timedelta(days=1)
            request["session"]["date"] = session.isoformat()
        elif "screening" in request:
            request["kind"] = "aftercare" if request["kind"] == "consent" else "consent"
        return request


def requests(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` valid requests, some repeated exactly and some with one thing changed."""
    from dn_docs import RequestError, parse_request

    maker = _Maker(seed)
    made: list[dict[str, Any]] = []
    while len(made) < count:
        draw = maker.rng.random()
        if made and draw < 0.1:
            request = copy.deepcopy(maker.rng.choice(made))
        elif made and draw < 0.3:
            request = maker.near_repeat(maker.rng.choice(made))
        else:
            request = maker.request()
        try:
            parse_request(request)
        except RequestError:
            continue  # e.g. a name with a character no installed font has
        made.append(request)
    return made


@dataclass(frozen=True)
class Difference:
    number: int
    summary: str
    warm: bytes
    fresh: bytes


def describe(request: dict[str, Any]) -> str:
    """What a request is, without its patient: for reports of differences."""
    options = ",".join(name for name, on in request["options"].items() if on) or "-"
    areas = len(request["session"]["areas"])
    return (
        f"{request['kind']} {request['locale']} {request['clinic']['country']} "
        f"clinic {request['clinic']['language']} options {options} areas {areas} "
        f"name {len(request['patient']['name'])} chars logo {request['clinic'].get('logo')}"
    )


_fresh: list[WeasyPrintRenderer] = []


def _start_fresh() -> None:
    _fresh.append(WeasyPrintRenderer(reuse_layout=False))


def _render_fresh(request: dict[str, Any]) -> bytes:
    return render_document(request, renderer=_fresh[0], generated_at=GENERATED_AT).pdf


def compare(
    batch: list[dict[str, Any]],
    warm: WeasyPrintRenderer,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Difference]:
    """Each request rendered by ``warm`` (in order) and from scratch, where they differ.

    The renders from scratch run in a process of their own, meanwhile (a request
    repeated exactly is rendered from scratch once).
    """
    with ProcessPoolExecutor(1, initializer=_start_fresh) as pool:
        fresh: dict[str, Future[bytes]] = {}
        keys = [json.dumps(request, sort_keys=True) for request in batch]
        for key, request in zip(keys, batch, strict=True):
            if key not in fresh:
                fresh[key] = pool.submit(_render_fresh, request)
        for number, (key, request) in enumerate(zip(keys, batch, strict=True)):
            reused = render_document(request, renderer=warm, generated_at=GENERATED_AT).pdf
            from_scratch = fresh[key].result()
            if reused != from_scratch:
                yield Difference(number, describe(request), reused, from_scratch)
            if progress is not None:
                progress(number + 1)
