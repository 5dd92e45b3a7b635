"""Glyph checks shared by the document tests and the browser test: which glyph ids a PDF draws
with the embedded IPAmj明朝 subset, and pixel comparison against the font itself."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

from moyai.documents.pdf import FONT_FAMILY, font_path


def gid(glyph_name: str) -> int:
    font = TTFont(str(font_path()), lazy=True)
    try:
        return font.getGlyphID(glyph_name)
    finally:
        font.close()


def drawn_glyph_ids(pdf: bytes) -> tuple[set[int], TTFont]:
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


def has_outline(subset: TTFont, gid: int) -> bool:
    glyph = subset["glyf"][subset.getGlyphOrder()[gid]]
    return glyph.numberOfContours != 0


def raster(pdf: bytes, tmp: Path) -> object:
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


def normalised(image: object) -> list[bool]:
    from PIL import Image, ImageOps

    img = image.convert("L")  # type: ignore[attr-defined]
    box = ImageOps.invert(img).point(lambda v: 255 if v > 96 else 0).getbbox()
    assert box, "ink found"
    small = img.crop(box).resize((64, 64), Image.Resampling.BILINEAR)
    return [v < 128 for v in small.tobytes()]


def iou(a: list[bool], b: list[bool]) -> float:
    both = sum(x and y for x, y in zip(a, b, strict=True))
    either = sum(x or y for x, y in zip(a, b, strict=True))
    return both / either


def from_font(text: str) -> object:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path()), 200, layout_engine=ImageFont.Layout.RAQM)
    image = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(image).text((40, 20), text, font=font, fill=0)
    return image
