"""The 窓口 flow in a real browser: sign in, register a family's 転入, print its 住民票の写し,
and check the PDF — its text (names, 和暦 dates) and that the name written with an IVS prints
with the variant glyph of IPAmj明朝 (glyph ids in the PDF, and the pixels of the printed page
against the glyph drawn from the font file).

All ORM work happens before the browser opens (see test_login_browser.py for why).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from moyai.documents.pdf import font_coverage
from moyai.platform import services as platform_services
from moyai.platform.models import Municipality, Role
from tests.conftest import PASSWORD, Staff
from tests.documents.glyphs import drawn_glyph_ids, from_font, gid, iou, normalised

from .test_login_browser import ARTIFACTS, TIMEOUT_MS, chromium_page, fill_login

pytestmark = pytest.mark.browser

KUZU, VS = "葛", "\U000e0102"
FAMILY = KUZU + VS + "城"  # 葛󠄂城: MJ022335, not the plain 葛 (MJ022336)


@pytest.fixture
def clerk(live_server, town_a: Municipality, make_staff, in_town) -> Staff:
    with in_town(town_a):
        platform_services.profile_update(mayor_title="葉山町長", mayor_name="山田　太郎")
    return make_staff(town_a, Role.REGISTRY)


def test_move_in_then_print_a_resident_copy(live_server, clerk: Staff, tmp_path: Path) -> None:
    with chromium_page() as page:
        page.goto(f"{live_server.url}/login/")
        fill_login(page, username=clerk.user.username, password=PASSWORD, otp_token=clerk.token())
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(f"{live_server.url}/", timeout=TIMEOUT_MS)

        page.get_by_role("link", name="転入届").click()
        page.fill("input[name=m-occurred]", "2026-04-01")
        page.fill("input[name=m-notified_on]", "2026-04-03")
        page.fill("input[name=m-notifier_name]", "葛城　一郎")
        page.fill("input[name=m-previous_address]", "東京都千代田区千代田1-1")
        page.fill("input[name=a-town]", "一色")
        page.fill("input[name=a-block]", "1234番地")
        page.fill("input[name=a-postal_code]", "2400111")
        for i, (given, kana, birth, sex, relation) in enumerate(
            [
                ("一郎", "カツラギ　イチロウ", "1970-01-15", "1", "世帯主"),
                ("花子", "カツラギ　ハナコ", "1975-06-30", "2", "妻"),
                ("翔", "カツラギ　ショウ", "2012-04-02", "1", "子"),
            ]
        ):
            page.fill(f"input[name=p-{i}-family_name]", FAMILY)
            page.fill(f"input[name=p-{i}-given_name]", given)
            page.fill(f"input[name=p-{i}-name_kana]", kana)
            page.fill(f"input[name=p-{i}-birth]", birth)
            page.select_option(f"select[name=p-{i}-sex]", sex)
            page.fill(f"input[name=p-{i}-relation]", relation)
        page.get_by_role("button", name="確認へ進む").click()
        page.get_by_text("内容の確認").wait_for(timeout=TIMEOUT_MS)
        page.get_by_role("button", name="登録する").click()
        page.get_by_text("登録しました").first.wait_for(timeout=TIMEOUT_MS)
        page.screenshot(path=str(ARTIFACTS / "move-in-done.png"), full_page=True)

        page.get_by_role("link", name=f"{FAMILY}　一郎").click()
        page.get_by_role("link", name="住民票の写し").click()
        page.check("input[name=relation]")
        page.fill("input[name=purpose]", "銀行口座の開設")
        with page.expect_download(timeout=TIMEOUT_MS) as download_info:
            page.get_by_role("button", name="交付する（PDF）").click()
        pdf_path = tmp_path / "copy.pdf"
        download_info.value.save_as(str(pdf_path))

    pdf = pdf_path.read_bytes()
    (ARTIFACTS / "resident-copy.pdf").write_bytes(pdf)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "")
    for expected in (
        "住民票の写し",
        "世帯全員",
        "一郎",
        "花子",
        "翔",
        "昭和45年1月15日",
        "昭和50年6月30日",
        "平成24年4月2日",
        "令和8年4月1日",
        "世帯主",
        "妻",
        "葉山町長　山田　太郎",
        "神奈川県葉山町一色1234番地",
    ):
        assert expected in text, expected

    coverage = font_coverage()
    variant = gid(coverage.glyph_of_sequence[(ord(KUZU), ord(VS))])
    base = gid(coverage.glyph_of_code_point[ord(KUZU)])
    drawn, _ = drawn_glyph_ids(pdf)
    assert variant in drawn, "葛 + E0102 printed with its own glyph (MJ022335)"
    assert base not in drawn, "the plain 葛 glyph is not used for the IVS name"

    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils missing: pixel comparison skipped (glyph ids checked above)")
    _compare_pixels(pdf_path, tmp_path)


def _compare_pixels(pdf_path: Path, tmp: Path) -> None:
    """Crop the first 葛 of the printed page and compare it with the font's glyphs."""
    from PIL import Image

    bbox_html = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf_path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        bbox_html,
    )
    box = next((tuple(map(float, w[:4])) for w in words if w[4].startswith(KUZU)), None)
    assert box is not None, "the name is on page 1"
    dpi = 300
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-gray",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf_path),
            str(tmp / "page"),
        ],
        check=True,
    )
    page = Image.open(tmp / "page.png")
    scale = dpi / 72
    x0, y0, _, y1 = box
    size = (y1 - y0) * scale
    crop = page.crop((int(x0 * scale), int(y0 * scale), int(x0 * scale + size), int(y1 * scale)))
    crop.save(ARTIFACTS / "resident-copy-kuzu.png")
    printed = normalised(crop)
    as_variant = iou(printed, normalised(from_font(KUZU + VS)))
    as_base = iou(printed, normalised(from_font(KUZU)))
    assert as_variant > as_base, (as_variant, as_base)
