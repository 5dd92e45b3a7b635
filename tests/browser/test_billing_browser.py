"""割り勘 in a real browser: the operator runs a month's allocation of a 協議会, closes it, and
draws the 割り勘効果 chart; the town's 団体管理者 then finds its own statement.

All ORM work happens before the browser opens (see test_login_browser.py for why).
"""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from moyai.operations.billing import rules, services
from moyai.operations.billing.tasks import close_month
from moyai.platform.models import Municipality, Role
from tests.conftest import PASSWORD
from tests.operations.billing.arrange import ALL, move_in_household

from .test_login_browser import ARTIFACTS, TIMEOUT_MS, chromium_page, fill_login

pytestmark = pytest.mark.browser


def test_operator_allocates_and_admin_reads_statement(
    live_server, town_a: Municipality, town_b: Municipality, make_staff, in_town, cli_actor
) -> None:
    move_in_household(town_a, in_town, 3)
    move_in_household(town_b, in_town, 1)
    council = services.consortium_create(name="湘南町村クラウド協議会（ブラウザ試験）")
    for town in (town_a, town_b):
        services.membership_add(
            council=council, municipality=town, joined_on=date(2024, 4, 1), businesses=ALL
        )
    services.pool_create(
        council=council,
        data=services.PoolData(
            name="組織運営費",
            category="operations",
            rule="equal_population",
            amount=1_000_000,
            valid_from=date(2024, 4, 1),
        ),
    )
    operator = make_staff(None, Role.OPERATOR, username="op-browser")
    admin = make_staff(town_a, Role.ADMIN)
    month = rules.month_start(timezone.localdate())
    # 2 members, 人口 3 / 1: weights 4·4 + 6·2·p = 52 / 28 of 80 → 650,000 / 350,000
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page() as page:
        page.goto(f"{live_server.url}/login/")
        fill_login(
            page, username=operator.user.username, password=PASSWORD, otp_token=operator.token()
        )
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(f"{live_server.url}/", timeout=TIMEOUT_MS)
        page.get_by_role("link", name="割り勘（協議会・按分）").click()
        page.get_by_role("link", name=council.name).click()
        page.get_by_label("対象月").fill(f"{month:%Y-%m}")
        page.get_by_role("button", name="按分を計算する（仮計算）").click()
        page.wait_for_url("**/runs/*/", timeout=TIMEOUT_MS)
        body = page.locator("main").inner_text()
        assert "650,000" in body and "350,000" in body and "1,000,000 円" in body
        page.get_by_role("button", name="確定して請求明細書を発行する").click()
        page.get_by_test_id("closing").wait_for()  # asked; the worker has not run yet
        run_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        assert _in_a_thread(close_month.call, run_id) == 2  # the worker: one PDF per member
        page.get_by_role("link", name="表示を更新する").click()
        page.get_by_test_id("closed").wait_for()
        page.screenshot(path=str(ARTIFACTS / "billing-run.png"), full_page=True)

        page.get_by_role("link", name="割り勘シミュレーション").click()
        page.get_by_role("button", name="計算する").click()
        page.locator("svg.billing-chart").wait_for()
        assert page.locator("svg.billing-chart polyline").count() == 1
        page.screenshot(path=str(ARTIFACTS / "billing-simulation.png"), full_page=True)
        page.get_by_role("button", name="ログアウト").click()

        page.goto(f"{live_server.url}/login/")
        fill_login(page, username=admin.user.username, password=PASSWORD, otp_token=admin.token())
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(f"{live_server.url}/", timeout=TIMEOUT_MS)
        page.get_by_role("link", name="負担金請求明細").click()
        listing = page.locator("main").inner_text()
        assert "650,000 円" in listing and "350,000" not in listing
        page.get_by_role("link", name=f"{month:%Y-%m}").click()
        assert "均等割4：人口割6（人口 3人／計 4人、2団体）" in page.locator("main").inner_text()
        with page.expect_response(lambda r: r.url.endswith("/pdf/")) as answer:
            page.get_by_role("link", name="請求明細書（PDF", exact=False).click()
        assert answer.value.status == 200
        assert answer.value.headers["content-type"] == "application/pdf"


def _in_a_thread(function, *args):
    """Run database work beside the browser: Playwright's sync API keeps an event loop in this
    thread, where Django refuses synchronous queries. A worker is another process anyway."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def work():
        try:
            return function(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()
