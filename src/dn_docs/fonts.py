"""Compact copies of the CJK fonts, built once by the set-up.

Noto Sans CJK holds about 65,000 glyphs. WeasyPrint keeps glyph numbers when it
subsets a font into a PDF, so every Chinese, Japanese or Korean page embedded tables
sized for all of them: about 370 KiB per PDF and 70 ms of subsetting and compression.
``dn-docs fonts build`` writes a copy of each CJK face holding the characters of its
national character set (GB 2312, Big5, JIS X 0208, KS X 1001) and the punctuation
around them, with the glyphs renumbered. Outlines, metrics and layout features are the
installed font's, so pages print the same (``tests/test_speed.py`` compares the text
positions). A character outside the copy, such as a rare one in a name, falls back to
the installed font. Without the copies, documents use the installed fonts directly.
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from . import resources
from .errors import DnDocsError

WEIGHTS = {"regular": 400, "bold": 700}


@dataclass(frozen=True)
class CjkFace:
    lang: str  # the :lang() the copy is used for
    system_family: str
    encoding: str  # the legacy encoding whose character set the copy holds

    @property
    def family(self) -> str:
        return "dn-docs " + self.system_family.removeprefix("Noto Sans ")

    def file_name(self, weight: str) -> str:
        return f"{self.family.replace(' ', '-')}-{weight}.otf"


FACES = (
    CjkFace("zh-Hans", "Noto Sans CJK SC", "gb2312"),
    CjkFace("zh-Hant", "Noto Sans CJK TC", "big5"),
    CjkFace("ja", "Noto Sans CJK JP", "euc_jp"),
    CjkFace("ko", "Noto Sans CJK KR", "euc_kr"),
)

# ASCII, Latin-1, general punctuation (including the bidi isolates dn-docs wraps names
# in), CJK symbols and punctuation, and half- and full-width forms.
_COMMON = [
    *range(0x20, 0x7F),
    *range(0xA0, 0x100),
    *range(0x2000, 0x2070),
    *range(0x3000, 0x3040),
    *range(0xFF00, 0xFFF0),
]


def fonts_dir() -> Path:
    return resources.assets_dir() / "fonts"


def charset(encoding: str) -> set[int]:
    """Every character of a two-byte legacy encoding, plus the common ones."""
    codepoints = set(_COMMON)
    for high in range(0x81, 0xFF):
        for low in range(0x40, 0xFF):
            try:
                codepoints.update(map(ord, bytes((high, low)).decode(encoding)))
            except UnicodeDecodeError:
                continue
    return codepoints


def _system_font(family: str, weight: str) -> tuple[Path, int]:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        raise DnDocsError("fc-match is not installed; install fontconfig")
    pattern = f"{family}:style={weight.title()}"
    output = subprocess.run(
        [fc_match, "-f", "%{family}\t%{file}\t%{index}", pattern],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found, file, index = output.split("\t")
    if family not in found.split(","):
        raise DnDocsError(f"the font {family!r} is not installed (fonts-noto-cjk)")
    return Path(file), int(index)


def _build_one(face: CjkFace, weight: str, target: Path) -> Path:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    source, index = _system_font(face.system_family, weight)
    font = TTFont(source, fontNumber=index, lazy=False)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(charset(face.encoding)))
    subsetter.subset(font)
    names = font["name"]
    for record in names.names:
        if record.nameID in (1, 16):
            record.string = face.family
        elif record.nameID in (4, 6):
            full = f"{face.family} {weight.title()}"
            record.string = full.replace(" ", "-") if record.nameID == 6 else full
    partial = target.with_suffix(".part")
    font.save(partial)
    partial.replace(target)
    return target


def build(force: bool = False, workers: int | None = None) -> list[Path]:
    """Write the compact copies that are missing (all of them with ``force``)."""
    folder = fonts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [
        (face, weight, folder / face.file_name(weight)) for face in FACES for weight in WEIGHTS
    ]
    todo = [item for item in wanted if force or not item[2].is_file()]
    if todo:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_build_one, *zip(*todo, strict=True)))
    available.cache_clear()
    return [target for _, _, target in wanted]


@cache
def available() -> tuple[CjkFace, ...]:
    """The faces whose compact copies are built, in both weights."""
    folder = fonts_dir()
    return tuple(
        face
        for face in FACES
        if all((folder / face.file_name(weight)).is_file() for weight in WEIGHTS)
    )


def font_css() -> str:
    """``@font-face`` rules for the built copies, each put before its installed font."""
    rules = []
    for face in available():
        for weight, number in WEIGHTS.items():
            rules.append(
                f'@font-face {{ font-family: "{face.family}"; font-weight: {number}; '
                f'src: url("fonts/{face.file_name(weight)}"); }}'
            )
        rules.append(
            f':lang({face.lang}) {{ font-family: "Noto Sans", "{face.family}", '
            f'"{face.system_family}", sans-serif; }}'
        )
    return "\n".join(rules) + "\n" if rules else ""
