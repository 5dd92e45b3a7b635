"""PDF rendering: Django templates (HTML + CSS, A4, Japanese) to PDF with WeasyPrint.

Text is set in IPAmj明朝 (Debian ``fonts-ipamj-mincho``, installed by ``scripts/ensure-fonts``),
referenced by absolute file URL in ``@font-face`` so that WeasyPrint embeds it as a subset (with
the original glyph ids retained). HarfBuzz shapes the text, so an ideographic variation sequence
(IVS) prints the glyph that the font's ``cmap`` format 14 assigns to it, e.g. 葛 + U+E0102 →
MJ022335, not the base 葛.

IPAmj明朝 implements the Moji_Joho IVD collection only. A sequence it does not know — notably
the Adobe-Japan1 sequences 葛 + U+E0100 and 辻 + U+E0100 — would silently print the base glyph,
and a character missing from the font would print from some other font. A certificate must
never show a different 字形 than the register holds, so :func:`render_document` refuses such
text (:class:`UnprintableText`) instead; the name has to be mapped to its MJ文字図形名 first.

Only local resources are fetched while rendering: ``data:`` URIs (the QR code) and files under
this app's ``static/documents/`` or the font file. Anything else (http, other files) stops the
rendering, so a template or a value in it can neither reach the network nor read local files.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.template.loader import render_to_string

from moyai.platform.errors import ServiceError

DEFAULT_FONT_PATH = "/usr/share/fonts/truetype/ipamj/ipamjm.ttf"
FONT_FAMILY = "moyai-ipamj-mincho"
STATIC_DIR = Path(__file__).resolve().parent / "static" / "documents"
PRINT_CSS = STATIC_DIR / "print.css"


class FontMissing(RuntimeError):
    """The IPAmj明朝 font file is not installed."""


class DocumentRenderError(RuntimeError):
    """The template could not be rendered to PDF (e.g. it referred to a forbidden resource)."""


class UnprintableText(ServiceError):
    """The document holds characters (or variation sequences) the font cannot print exactly."""

    code = "unprintable"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listed = "、".join(problems[:10]) + (" ほか" if len(problems) > 10 else "")
        super().__init__(
            f"IPAmj明朝で正しく印字できない文字があります: {listed}。"
            "異体字セレクタ（IVS）を MJ文字図形名に対応するもの（Moji_Joho コレクション）に"
            "直してください",
            field="context",
        )


def font_path() -> Path:
    """The IPAmj明朝 file (``MOYAI_DOCUMENT_FONT`` overrides the Debian location)."""
    path = Path(os.environ.get("MOYAI_DOCUMENT_FONT", DEFAULT_FONT_PATH))
    if not path.is_file():
        raise FontMissing(
            f"IPAmj明朝 が見つかりません: {path}（scripts/ensure-fonts を root で実行して "
            "fonts-ipamj-mincho を導入してください）"
        )
    return path


# --- what the font can print --------------------------------------------------------------------


@dataclass(frozen=True)
class FontCoverage:
    code_points: frozenset[int]
    sequences: frozenset[tuple[int, int]]  # (base, variation selector)
    glyph_of_sequence: Mapping[tuple[int, int], str]
    glyph_of_code_point: Mapping[int, str]


@lru_cache(maxsize=4)
def font_coverage(path: str | None = None) -> FontCoverage:
    """The code points and variation sequences of the font (cmap formats 4/12 and 14)."""
    from fontTools.ttLib import TTFont

    font = TTFont(path or str(font_path()), lazy=True)
    try:
        cmap = font["cmap"]
        best = dict(cmap.getBestCmap())
        glyph_of_sequence: dict[tuple[int, int], str] = {}
        for table in cmap.tables:
            if table.format != 14:
                continue
            for selector, pairs in table.uvsDict.items():
                for base, glyph in pairs:
                    # None means "the default glyph of the base character" (also printable).
                    glyph_of_sequence[(base, selector)] = glyph or best.get(base, "")
    finally:
        font.close()
    return FontCoverage(
        code_points=frozenset(best),
        sequences=frozenset(glyph_of_sequence),
        glyph_of_sequence=glyph_of_sequence,
        glyph_of_code_point=best,
    )


def is_variation_selector(cp: int) -> bool:
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def _invisible(ch: str) -> bool:
    """Whitespace and format/control characters that print no glyph of their own."""
    import unicodedata

    return ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf"}


def _describe(text: str) -> str:
    return f"「{text}」({' '.join(f'U+{ord(c):04X}' for c in text)})"


def unprintable_characters(text: str) -> list[str]:
    """Characters and variation sequences of ``text`` that IPAmj明朝 cannot print exactly.

    Each problem is described as ``「葛󠄀」(U+845B U+E0100)``; an empty list means every character
    prints as written.
    """
    coverage = font_coverage()
    problems: list[str] = []
    base: str | None = None
    for ch in text:
        cp = ord(ch)
        if is_variation_selector(cp):
            if base is None or (ord(base), cp) not in coverage.sequences:
                problems.append(_describe((base or "") + ch))
            base = None  # a second selector on the same base is an error too
            continue
        base = ch
        if _invisible(ch):
            continue
        if cp not in coverage.code_points:
            problems.append(_describe(ch))
    return list(dict.fromkeys(problems))


_NON_TEXT = re.compile(r"<(style|script)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def printed_text(markup: str) -> str:
    """The text of an HTML document as it will be printed (tags, styles, comments removed)."""
    return html.unescape(_TAG.sub(" ", _NON_TEXT.sub(" ", markup)))


# --- rendering -----------------------------------------------------------------------------------


def _url_fetcher() -> Any:
    """A WeasyPrint URL fetcher that admits only ``data:`` URIs and the app's own files."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    allowed_dirs = (STATIC_DIR,)
    allowed_files = (font_path().resolve(),)

    class LocalOnlyFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file" and parts.netloc in ("", "localhost"):
                path = Path(unquote(parts.path)).resolve()
                if path in allowed_files or any(path.is_relative_to(d) for d in allowed_dirs):
                    return super().fetch(url, headers)
            raise FatalURLFetchingError(
                f"許可されていない参照です（PDF には埋め込めません）: {url}"
            )

    return LocalOnlyFetcher(allowed_protocols={"data", "file"}, allow_redirects=False)


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    page_count: int


def render_document(*, template_name: str, context: Mapping[str, Any]) -> RenderedPdf:
    """Render ``template_name`` with ``context`` to an (unsigned) PDF and count its pages.

    Raises :class:`UnprintableText` when the printed text holds a character or variation
    sequence the font cannot print exactly.
    """
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import FatalURLFetchingError

    markup = render_to_string(template_name, dict(context))
    problems = unprintable_characters(printed_text(markup))
    if problems:
        raise UnprintableText(problems)
    fetcher = _url_fetcher()
    font_config = FontConfiguration()
    font_css = CSS(
        string=(
            f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("{font_path().as_uri()}"); }}\n'
            f'html {{ font-family: "{FONT_FAMILY}"; }}\n'
        ),
        font_config=font_config,
        url_fetcher=fetcher,
    )
    print_css = CSS(filename=str(PRINT_CSS), font_config=font_config, url_fetcher=fetcher)
    try:
        document = HTML(
            string=markup, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher
        ).render(font_config=font_config, stylesheets=[font_css, print_css])
        pdf = document.write_pdf()
    except FatalURLFetchingError as exc:
        raise DocumentRenderError(str(exc)) from exc
    return RenderedPdf(pdf=pdf, page_count=len(document.pages))


def render_pdf(*, template_name: str, context: Mapping[str, Any]) -> bytes:
    """Render a Django template to PDF bytes (A4, IPAmj明朝 embedded as a subset); unsigned.

    Certificates are issued with :func:`moyai.documents.services.document_issue`, which numbers,
    signs and registers them; use this function directly only for drafts and specimens.
    """
    return render_document(template_name=template_name, context=context).pdf
