"""Staff sign-in (password + TOTP) in a real browser: Playwright driving Debian's Chromium.

The browser is never downloaded: it is the system's ``/usr/bin/chromium`` (installed, with a
Japanese font, by ``scripts/ensure-chromium``) or ``MOYAI_CHROMIUM``. Without it the tests are
skipped, unless ``MOYAI_REQUIRE_BROWSER=1``, when they fail.

Playwright's sync API keeps an asyncio event loop in this thread while the browser is open, and
Django refuses ORM calls from a thread with a running loop (SynchronousOnlyOperation). So every
ORM call (the fixtures' data) happens before :func:`chromium_page` opens the browser; inside it
the test only computes TOTP codes from the device already in memory. The live server answers in
its own thread, where there is no loop.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django_otp.oath import hotp

from moyai.platform.models import Municipality
from tests.conftest import PASSWORD, Staff

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("MOYAI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOGIN_ERROR = "ユーザー名、パスワードまたは確認コードが正しくありません"
TIMEOUT_MS = 15_000


def require_chromium() -> None:
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return
    message = (
        f"Chromium not found at {CHROMIUM}: run scripts/ensure-chromium (as root) "
        "or point MOYAI_CHROMIUM at a Chromium binary"
    )
    if os.environ.get("MOYAI_REQUIRE_BROWSER") == "1":
        pytest.fail(
            f"{message} (MOYAI_REQUIRE_BROWSER=1, so this is a failure, not a skip)", pytrace=False
        )
    pytest.skip(message)


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A fresh headless Chromium page. Make no ORM call inside this block (see module doc)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=60_000
        )
        try:
            context = browser.new_context(
                locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 800}
            )
            context.set_default_timeout(TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()


def wrong_token(staff: Staff) -> str:
    """A six-digit code that the device accepts in no step near now (tolerance is ±1 step)."""
    d = staff.device
    now = (int(time.time()) - d.t0) // d.step + d.drift
    near = {f"{hotp(d.bin_key, t, digits=d.digits):06d}" for t in range(now - 5, now + 6)}
    return next(c for c in (f"{n}" * 6 for n in range(10)) if c not in near)


def fill_login(page: Page, *, username: str, password: str, otp_token: str) -> None:
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_label("確認コード").fill(otp_token)


def test_staff_signs_in_with_password_and_totp(
    live_server: Any, town_a: Municipality, make_staff: Any
) -> None:
    from playwright.sync_api import expect

    staff = make_staff(town_a)
    username = staff.user.username
    home_url = f"{live_server.url}/"
    ARTIFACTS.mkdir(exist_ok=True)

    with chromium_page() as page:
        page.goto(f"{live_server.url}/login/")
        expect(page.get_by_role("heading", name="職員ログイン")).to_be_visible()
        expect(page.get_by_test_id("municipality")).to_have_count(0)

        page.get_by_label("ユーザー名").fill(username)
        page.get_by_label("パスワード").fill(PASSWORD)
        # Fetched right before typing; a step rolling over before the server checks it is
        # fine, as the device accepts ±1 step (TOTPDevice.tolerance = 1).
        page.get_by_label("確認コード").fill(staff.token())
        page.get_by_role("button", name="ログイン", exact=True).click()

        page.wait_for_url(home_url)
        expect(page.get_by_role("heading", name="ホーム")).to_be_visible()
        municipality = page.locator("header").get_by_test_id("municipality")
        expect(municipality).to_have_text("神奈川県 葉山町")
        expect(page).to_have_title("ホーム — 神奈川県 葉山町")
        expect(page.get_by_role("button", name="ログアウト")).to_be_visible()
        page.evaluate("document.fonts.ready")
        page.screenshot(path=str(ARTIFACTS / "login-home.png"), full_page=True)


def test_wrong_totp_code_is_refused(
    live_server: Any, town_a: Municipality, make_staff: Any
) -> None:
    from playwright.sync_api import expect

    staff = make_staff(town_a)
    username = staff.user.username
    login_url = f"{live_server.url}/login/"
    ARTIFACTS.mkdir(exist_ok=True)

    with chromium_page() as page:
        page.goto(login_url)
        fill_login(page, username=username, password=PASSWORD, otp_token=wrong_token(staff))
        with page.expect_response(
            lambda r: r.request.method == "POST" and r.url == login_url
        ) as answer:
            page.get_by_role("button", name="ログイン", exact=True).click()
        assert answer.value.status == 401

        expect(page.get_by_role("alert")).to_have_text(LOGIN_ERROR)
        assert page.url == login_url
        expect(page.get_by_test_id("municipality")).to_have_count(0)
        expect(page.get_by_role("button", name="ログアウト")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "login-wrong-code.png"), full_page=True)

        # Still signed out: the home page sends the browser back to the login form.
        page.goto(f"{live_server.url}/")
        assert page.url.startswith(login_url)
        expect(page.get_by_test_id("municipality")).to_have_count(0)
