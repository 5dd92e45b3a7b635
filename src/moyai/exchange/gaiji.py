"""外字の同定支援: candidate characters for a vendor 外字, drawn with IPAmj明朝 and ranked.

Candidates are the vendor's substitute character (代替文字) and every variation sequence the font
has for it (the MJ variants). When the vendor supplied a picture of its glyph, candidates are
ranked by how much of their ink overlaps the picture's (both cropped to the ink and scaled);
otherwise they keep the font's order. A person always makes the decision.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from moyai.documents.pdf import font_coverage, font_path

SIZE = 64


@dataclass(frozen=True)
class Candidate:
    text: str  # base character plus variation selector, as it would be stored
    glyph: str  # the font's glyph name = MJ文字図形名 (lower case) where it is an MJ glyph
    image: str  # PNG data URI, drawn with IPAmj明朝
    score: float | None  # overlap with the vendor's picture (0..1), when there is one

    @property
    def mj_name(self) -> str:
        return self.glyph.upper() if self.glyph.startswith("mj") else ""

    @property
    def code_points(self) -> str:
        return " ".join(f"U+{ord(c):04X}" for c in self.text)


def _font(size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    return ImageFont.truetype(str(font_path()), size, layout_engine=ImageFont.Layout.RAQM)


@lru_cache(maxsize=4096)
def draw(text: str, size: int = SIZE) -> bytes:
    """``text`` drawn with IPAmj明朝 as a PNG (IVS honoured through libraqm/HarfBuzz)."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (size, size), 255)
    ImageDraw.Draw(image).text((size // 16, 0), text, font=_font(int(size * 0.85)), fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _ink(png: bytes) -> list[bool]:
    from PIL import Image, ImageOps

    image = Image.open(io.BytesIO(png)).convert("L")
    box = ImageOps.invert(image).point(lambda v: 255 if v > 96 else 0).getbbox()
    if box is None:
        return [False] * (32 * 32)
    small = image.crop(box).resize((32, 32), Image.Resampling.BILINEAR)
    return [v < 128 for v in small.tobytes()]


def overlap(a: bytes, b: bytes) -> float:
    x, y = _ink(a), _ink(b)
    both = sum(p and q for p, q in zip(x, y, strict=True))
    either = sum(p or q for p, q in zip(x, y, strict=True))
    return both / either if either else 0.0


@lru_cache(maxsize=1)
def _variants_by_target() -> dict[str, list[str]]:
    """Reverse MJ縮退マップ (strict tables only): 高 → [髙 …], 崎 → [﨑, 嵜 …]."""
    from moyai.moji import mj

    strict = {
        mj.ReductionTable.JIS_UNIFICATION,
        mj.ReductionTable.KOSEKI_PARENT,
        mj.ReductionTable.MINJI_5202,
        mj.ReductionTable.MINJI_2842_VULGAR,
        mj.ReductionTable.MINJI_2842_ERROR,
    }
    result: dict[str, list[str]] = {}
    for char in mj.all_chars():
        text = char.text
        if not text:
            continue
        for r in mj.reductions(char):
            if r.table in strict and r.target != text:
                result.setdefault(r.target, []).append(text)
    return result


def candidates(hint: str, picture: bytes | None = None) -> list[Candidate]:
    """MJ candidates for a 外字 whose vendor substitute is ``hint`` (ranked by ``picture``)."""
    if not hint:
        return []
    base = ord(hint[0])
    coverage = font_coverage()
    texts: list[tuple[str, str]] = []
    if base in coverage.code_points:
        texts.append((chr(base), coverage.glyph_of_code_point[base]))
    seen = {g for _, g in texts}
    for (cp, selector), glyph in sorted(coverage.glyph_of_sequence.items()):
        if cp == base and glyph not in seen:
            texts.append((chr(cp) + chr(selector), glyph))
            seen.add(glyph)
    # Characters the MJ縮退マップ reduces to the hint (異体字 such as 髙 for 高).
    for text in _variants_by_target().get(chr(base), []):
        glyph = _glyph_of(text, coverage)
        if glyph and glyph not in seen:
            texts.append((text, glyph))
            seen.add(glyph)
    result = []
    for text, glyph in texts:
        png = draw(text)
        score = round(overlap(picture, png), 3) if picture else None
        result.append(Candidate(text, glyph, data_uri(png), score))
    if picture:
        result.sort(key=lambda c: -(c.score or 0))
    return result


def _glyph_of(text: str, coverage: object) -> str:
    cov: Any = coverage
    if len(text) == 2 and (ord(text[0]), ord(text[1])) in cov.glyph_of_sequence:
        return str(cov.glyph_of_sequence[(ord(text[0]), ord(text[1]))])
    if len(text) == 1:
        return str(cov.glyph_of_code_point.get(ord(text), ""))
    return ""
