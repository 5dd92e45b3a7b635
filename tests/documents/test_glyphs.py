"""Names print with the exact glyph the register holds, variation sequences included.

Two independent proofs:

1. **Glyph ids** (deterministic, the main check). WeasyPrint embeds IPAmj明朝 as a subset with
   the original glyph ids retained (``CIDToGIDMap /Identity``), so the 2-byte codes in the
   page's text operators are the font's glyph ids. The font's ``cmap`` format 14 says which
   glyph a variation sequence maps to (葛 + U+E0102 → ``mj022335``, base 葛 → ``mj022336``): the
   page must draw exactly that glyph id, never the base one, and the embedded subset must carry
   its outline.
2. **Pixels** (what a reader sees). Each glyph is rendered alone to PDF, rasterised with
   ``pdftoppm`` and compared, after cropping to the ink and scaling, with the same sequence
   drawn from the font file by Pillow through libraqm/HarfBuzz (which honours IVS). The PDF's
   glyph must be closer to the variant than to the base, and the two PDFs must differ. Needs
   poppler-utils and a Pillow with raqm; skipped (with the reason) without them.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

from moyai.documents.pdf import (
    FONT_FAMILY,
    UnprintableText,
    font_coverage,
    font_path,
    render_pdf,
    unprintable_characters,
)

from .conftest import NAME, NAME_2

KUZU, TSUJI, VS_E0102, VS_E0100 = 0x845B, 0x8FBB, 0xE0102, 0xE0100


def _gid(glyph_name: str) -> int:
    font = TTFont(str(font_path()), lazy=True)
    try:
        return font.getGlyphID(glyph_name)
    finally:
        font.close()


def _drawn_glyph_ids(pdf: bytes) -> tuple[set[int], TTFont]:
    """Glyph ids drawn with the embedded IPAmj subset on page 1, and that subset."""
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    fonts = {
        name: ref.get_object()
        for name, ref in page["/Resources"]["/Font"].items()
        if str(ref.get_object()["/BaseFont"]).endswith("+" + FONT_FAMILY)
    }
    assert len(fonts) == 1, "exactly one embedded IPAmj subset"
    ((font_name, font),) = fonts.items()
    descendant = font["/DescendantFonts"][0].get_object()
    assert font["/Encoding"] == "/Identity-H"
    assert descendant["/CIDToGIDMap"] == "/Identity", "CID = glyph id of the original font"
    subset = TTFont(io.BytesIO(descendant["/FontDescriptor"]["/FontFile2"].get_data()))

    drawn: set[int] = set()
    current = None
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"Tf":
            current = operands[0]
        elif operator in (b"Tj", b"TJ") and current == font_name:
            items = operands[0] if operator == b"TJ" else operands
            for item in items:
                raw = getattr(item, "original_bytes", None)
                if isinstance(raw, bytes):
                    drawn.update(
                        int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)
                    )
    return drawn, subset


def _has_outline(subset: TTFont, gid: int) -> bool:
    glyph = subset["glyf"][subset.getGlyphOrder()[gid]]
    return glyph.numberOfContours != 0


def test_the_font_has_distinct_glyphs_for_the_sequences() -> None:
    coverage = font_coverage()
    assert coverage.glyph_of_sequence[(KUZU, VS_E0102)] == "mj022335"
    assert coverage.glyph_of_code_point[KUZU] == "mj022336"
    assert coverage.glyph_of_sequence[(TSUJI, VS_E0102)] == "mj025760"
    assert coverage.glyph_of_code_point[TSUJI] == "mj025761"
    # The Adobe-Japan1 sequences are not in IPAmj明朝 (Moji_Joho collection only).
    assert (KUZU, VS_E0100) not in coverage.sequences
    assert (TSUJI, VS_E0100) not in coverage.sequences


def test_issued_certificate_draws_the_variant_glyphs(town_a, issue) -> None:
    pdf = issue(town_a, name=f"{NAME} {NAME_2}").pdf  # 葛󠄂城 髙志 辻󠄂 𠮷子
    drawn, subset = _drawn_glyph_ids(pdf)
    coverage = font_coverage()
    for cp in (KUZU, TSUJI):
        variant = _gid(coverage.glyph_of_sequence[(cp, VS_E0102)])
        base = _gid(coverage.glyph_of_code_point[cp])
        assert variant != base
        assert variant in drawn, f"U+{cp:04X}+E0102 drawn as its variant glyph"
        assert base not in drawn, f"U+{cp:04X} base glyph not drawn (the name has only IVS)"
        assert _has_outline(subset, variant), "the variant's outline is embedded"
    for cp in (0x9AD9, 0x20BB7):  # 髙, 𠮷: their own glyphs, not 高 / 吉
        assert _gid(coverage.glyph_of_code_point[cp]) in drawn
    for cp in (0x9AD8, 0x5409):
        assert _gid(coverage.glyph_of_code_point[cp]) not in drawn


def test_unprintable_text_is_named() -> None:
    assert unprintable_characters("葛\U000e0102城 髙志 𠮷") == []
    assert unprintable_characters("葛\U000e0100") == ["「葛\U000e0100」(U+845B U+E0100)"]
    assert unprintable_characters("\U000e0102") == ["「\U000e0102」(U+E0102)"]
    assert unprintable_characters("a\U000e0102") == ["「a\U000e0102」(U+0061 U+E0102)"]
    assert unprintable_characters("\uf8f0") == ["「\uf8f0」(U+F8F0)"]
    with pytest.raises(UnprintableText):
        render_pdf(
            template_name="documents/specimen.html", context={"samples": [{"text": "辻\U000e0100"}]}
        )


# --- pixels -------------------------------------------------------------------------------------


def _raster(pdf: bytes, tmp: Path) -> object:
    from PIL import Image

    (tmp / "in.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "200",
            "-gray",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(tmp / "in.pdf"),
            str(tmp / "out"),
        ],
        check=True,
    )
    image = Image.open(tmp / "out.png")
    return image.crop((0, 0, image.width, image.height // 3))  # the glyph, not the page footer


def _normalised(image: object) -> list[bool]:
    from PIL import Image, ImageOps

    img = image.convert("L")  # type: ignore[attr-defined]
    box = ImageOps.invert(img).point(lambda v: 255 if v > 96 else 0).getbbox()
    assert box, "ink found"
    small = img.crop(box).resize((64, 64), Image.Resampling.BILINEAR)
    return [v < 128 for v in small.tobytes()]


def _iou(a: list[bool], b: list[bool]) -> float:
    both = sum(x and y for x, y in zip(a, b, strict=True))
    either = sum(x or y for x, y in zip(a, b, strict=True))
    return both / either


def _from_font(text: str) -> object:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path()), 200, layout_engine=ImageFont.Layout.RAQM)
    image = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(image).text((40, 20), text, font=font, fill=0)
    return image


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) missing")
def test_the_printed_pixels_are_the_variant_glyph(tmp_path: Path) -> None:
    from PIL import features

    if not features.check("raqm"):
        pytest.skip("Pillow without libraqm cannot shape variation sequences")
    for cp in (KUZU, TSUJI):
        variant_text, base_text = chr(cp) + chr(VS_E0102), chr(cp)
        printed = {
            t: _normalised(
                _raster(
                    render_pdf(
                        template_name="documents/specimen.html",
                        context={"samples": [{"text": t}]},
                    ),
                    tmp_path,
                )
            )
            for t in (variant_text, base_text)
        }
        drawn = {t: _normalised(_from_font(t)) for t in (variant_text, base_text)}
        assert _iou(printed[variant_text], printed[base_text]) < 0.9, "the two glyphs differ"
        assert _iou(printed[variant_text], drawn[variant_text]) > 0.8
        assert _iou(printed[variant_text], drawn[variant_text]) > _iou(
            printed[variant_text], drawn[base_text]
        )
        assert _iou(printed[base_text], drawn[base_text]) > _iou(
            printed[base_text], drawn[variant_text]
        )
