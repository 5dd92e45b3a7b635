"""被災者支援 in a real browser: a shelter's reception finds a flood victim in the 被災者台帳 by
reading and checks her in; then the household's り災証明書 is printed and the PDF checked — its
text (災害, 被害の程度, 和暦) and that 𠮷 (outside the BMP) prints with its own glyph.

All ORM work happens before the browser opens (see test_login_browser.py for why).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from moyai.disaster import services
from moyai.disaster.models import VictimHousehold
from moyai.documents.pdf import font_coverage
from moyai.platform import services as platform_services
from moyai.platform.models import Municipality, Role
from tests.conftest import PASSWORD, Staff
from tests.disaster.scenario import FLOOD_ON, TOWNS, build_town
from tests.documents.glyphs import drawn_glyph_ids, gid

from .test_login_browser import ARTIFACTS, TIMEOUT_MS, chromium_page, fill_login

pytestmark = pytest.mark.browser


@pytest.fixture
def arranged(live_server, town_a: Municipality, make_staff, in_town) -> tuple[Staff, dict]:
    with in_town(town_a):
        platform_services.profile_update(mayor_title="葉山町長", mayor_name="山田　太郎")
        build_town()
        disaster = services.disaster_register(
            code="R8-豪雨-001",
            name="令和8年10月豪雨",
            kind="豪雨（洪水）",
            occurred_on=FLOOD_ON,
            towns=TOWNS,
            support_act_on=FLOOD_ON,
        )
        services.ledger_build(disaster_id=disaster.pk)
        shelter = services.shelter_open(
            disaster_id=disaster.pk,
            name="堀内公民館",
            address="堀内100番地",
            capacity=50,
            opened_on=FLOOD_ON,
        )
        household = VictimHousehold.objects.get(head_name="髙橋　誠")
        services.survey_record(
            dwelling_id=household.dwelling_id,
            kind="first",
            method="site",
            surveyed_on=FLOOD_ON,
            ratio="41.5",
        )
        ids = {"shelter": shelter.pk, "household": household.pk, "disaster": disaster.pk}
    return make_staff(town_a, Role.DISASTER), ids


def test_shelter_check_in_and_damage_certificate(live_server, arranged, tmp_path: Path) -> None:
    clerk, _ids = arranged
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page() as page:
        page.goto(f"{live_server.url}/login/")
        fill_login(page, username=clerk.user.username, password=PASSWORD, otp_token=clerk.token())
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(f"{live_server.url}/", timeout=TIMEOUT_MS)

        page.get_by_role("link", name="被災者支援").click()
        page.get_by_role("link", name="令和8年10月豪雨").click()
        page.get_by_role("link", name="避難所", exact=True).click()
        page.get_by_role("link", name="堀内公民館").click()
        page.get_by_label("フリガナ", exact=True).first.fill("タカハシ")
        page.get_by_role("button", name="探す").click()
        row = page.get_by_test_id("found").locator("tr", has_text="𠮷子")
        row.get_by_label("安否情報の提供に同意").check()
        row.get_by_role("button", name="入所").click()
        page.get_by_text("入所を受け付けました").wait_for(timeout=TIMEOUT_MS)
        assert page.get_by_test_id("present").inner_text() == "1"
        assert "髙橋　𠮷子" in page.get_by_test_id("stays").inner_text()
        page.screenshot(path=str(ARTIFACTS / "disaster-shelter.png"), full_page=True)

        page.get_by_role("link", name="被災者台帳").click()
        page.get_by_label("氏名・フリガナ・り災番号").fill("タカハシ")
        page.get_by_role("button", name="検索").click()
        page.get_by_role("link", name="髙橋　誠").click()
        assert page.get_by_test_id("level").inner_text() == "大規模半壊"
        page.get_by_label("使用目的").fill("被災者生活再建支援金の申請")
        with page.expect_download(timeout=TIMEOUT_MS) as download_info:
            page.get_by_role("button", name="交付する（PDF）").click()
        pdf_path = tmp_path / "risai.pdf"
        download_info.value.save_as(str(pdf_path))

    pdf = pdf_path.read_bytes()
    (ARTIFACTS / "risai-certificate.pdf").write_bytes(pdf)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    text = text.replace(" ", "").replace("\u3000", "")
    for expected in (
        "り災証明書",
        "令和8年10月豪雨",
        "令和8年10月10日",
        "大規模半壊",
        "髙橋誠",
        "𠮷子",
        "神奈川県葉山町堀内3番地A棟102",
        "葉山町長山田太郎",
        "災害対策基本法第90条の2",
    ):
        assert expected in text, expected
    coverage = font_coverage()
    drawn, _ = drawn_glyph_ids(pdf)
    assert gid(coverage.glyph_of_code_point[ord("𠮷")]) in drawn, "𠮷 printed with its own glyph"
