"""固定資産課税台帳 in a real browser: a tax clerk registers a parcel for a 住登外 owner whose name
holds 外字, is told which field is wrong, corrects it, and sees the parcel under its owner.

All ORM work happens before the browser opens (see test_login_browser.py for why).
"""

from __future__ import annotations

import pytest

from moyai.platform.models import Municipality, Role
from moyai.tax.addressees import services as addressees
from moyai.tax.property.models import Parcel
from tests.conftest import PASSWORD

from .test_login_browser import ARTIFACTS, TIMEOUT_MS, chromium_page, fill_login

pytestmark = pytest.mark.browser


def test_clerk_registers_a_parcel_and_is_told_what_is_wrong(
    live_server, town_a: Municipality, make_staff, in_town
) -> None:
    with in_town(town_a):
        owner = addressees.addressee_register_non_resident(
            name="𠮷田　花子", kana="ヨシダ　ハナコ", address="横浜市中区2-2"
        )
    clerk = make_staff(town_a, Role.TAX)
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page() as page:
        page.goto(f"{live_server.url}/login/")
        fill_login(page, username=clerk.user.username, password=PASSWORD, otp_token=clerk.token())
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(f"{live_server.url}/", timeout=TIMEOUT_MS)
        page.get_by_role("link", name="固定資産税").first.click()
        page.get_by_role("link", name="土地の登録").click()

        page.get_by_label("所在").fill("一色")
        page.get_by_label("地番").fill("2121-3")
        page.get_by_label("地目").select_option(label="宅地")
        page.get_by_label("地積（㎡）").fill("二百")  # not a number
        page.get_by_label("評価額（円）").fill("12000000")
        page.get_by_label("小規模住宅用地（㎡）").fill("200")
        page.get_by_label("異動日（登記日など）").fill("2025-06-01")
        page.get_by_label("所有者の税務宛名番号").fill(owner.number)
        page.get_by_role("button", name="登録").click()
        page.get_by_test_id("errors").wait_for(timeout=TIMEOUT_MS)
        body = page.locator("main").inner_text()
        assert "地積" in body
        page.screenshot(path=str(ARTIFACTS / "property-parcel-refused.png"), full_page=True)

        page.get_by_label("地積（㎡）").fill("200.00")
        page.get_by_role("button", name="登録").click()
        page.wait_for_url("**/tax/property/parcels/*/", timeout=TIMEOUT_MS)
        body = page.locator("main").inner_text()
        assert "2121-3" in body and "𠮷田　花子" in body
        page.screenshot(path=str(ARTIFACTS / "property-parcel.png"), full_page=True)

    with in_town(town_a):
        parcel = Parcel.objects.get(lot_number="2121-3")
        assert parcel.owner_id == owner.pk and parcel.area == 20_000
        assert Parcel.objects.count() == 1  # the refused entry wrote nothing
