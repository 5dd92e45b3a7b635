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

import shutil
from pathlib import Path

import pytest

from moyai.documents.pdf import (
    UnprintableText,
    font_coverage,
    render_pdf,
    unprintable_characters,
)

from .conftest import NAME, NAME_2
from .glyphs import drawn_glyph_ids, from_font, gid, has_outline, iou, normalised, raster

KUZU, TSUJI, VS_E0102, VS_E0100 = 0x845B, 0x8FBB, 0xE0102, 0xE0100


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
    drawn, subset = drawn_glyph_ids(pdf)
    coverage = font_coverage()
    for cp in (KUZU, TSUJI):
        variant = gid(coverage.glyph_of_sequence[(cp, VS_E0102)])
        base = gid(coverage.glyph_of_code_point[cp])
        assert variant != base
        assert variant in drawn, f"U+{cp:04X}+E0102 drawn as its variant glyph"
        assert base not in drawn, f"U+{cp:04X} base glyph not drawn (the name has only IVS)"
        assert has_outline(subset, variant), "the variant's outline is embedded"
    for cp in (0x9AD9, 0x20BB7):  # 髙, 𠮷: their own glyphs, not 高 / 吉
        assert gid(coverage.glyph_of_code_point[cp]) in drawn
    for cp in (0x9AD8, 0x5409):
        assert gid(coverage.glyph_of_code_point[cp]) not in drawn


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


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) missing")
def test_the_printed_pixels_are_the_variant_glyph(tmp_path: Path) -> None:
    from PIL import features

    if not features.check("raqm"):
        pytest.skip("Pillow without libraqm cannot shape variation sequences")
    for cp in (KUZU, TSUJI):
        variant_text, base_text = chr(cp) + chr(VS_E0102), chr(cp)
        printed = {
            t: normalised(
                raster(
                    render_pdf(
                        template_name="documents/specimen.html",
                        context={"samples": [{"text": t}]},
                    ),
                    tmp_path,
                )
            )
            for t in (variant_text, base_text)
        }
        drawn = {t: normalised(from_font(t)) for t in (variant_text, base_text)}
        assert iou(printed[variant_text], printed[base_text]) < 0.9, "the two glyphs differ"
        assert iou(printed[variant_text], drawn[variant_text]) > 0.8
        assert iou(printed[variant_text], drawn[variant_text]) > iou(
            printed[variant_text], drawn[base_text]
        )
        assert iou(printed[base_text], drawn[base_text]) > iou(
            printed[base_text], drawn[variant_text]
        )
