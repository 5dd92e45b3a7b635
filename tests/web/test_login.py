from django.test import Client
from django.urls import reverse

from moyai.platform.models import AuditEvent, Role
from moyai.platform.tenancy import tenant_context

from ..conftest import PASSWORD, signed_in_client


def _login(client: Client, username: str, password: str, token: str):
    return client.post(
        reverse("web:login"), {"username": username, "password": password, "otp_token": token}
    )


def test_sign_in_needs_password_and_totp(town_a, make_staff) -> None:
    staff = make_staff(town_a, Role.REGISTRY)
    client = Client()
    response = _login(client, staff.user.username, PASSWORD, staff.token())
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    assert 'data-testid="municipality">神奈川県 葉山町<' in html
    with tenant_context(town_a):
        login = AuditEvent.objects.get(action="login")
    assert login.actor_username == staff.user.username and login.target_id == str(staff.user.pk)


def test_wrong_totp_or_password_is_refused_without_saying_which(town_a, make_staff) -> None:
    staff = make_staff(town_a)
    wrong = f"{(int(staff.token()) + 500000) % 1000000:06d}"
    for password, token in ((PASSWORD, wrong), ("not-the-password", staff.token())):
        client = Client()
        response = _login(client, staff.user.username, password, token)
        assert response.status_code == 401
        assert (
            "ユーザー名、パスワードまたは確認コードが正しくありません" in response.content.decode()
        )
        assert client.get("/").status_code == 302  # still signed out


def test_password_alone_does_not_open_the_shell(town_a, make_staff) -> None:
    staff = make_staff(town_a)
    client = Client()
    client.force_login(staff.user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_five_failures_lock_the_account(town_a, make_staff) -> None:
    staff = make_staff(town_a)
    client = Client()
    for _ in range(5):
        _login(client, staff.user.username, "wrong-password-123", staff.token())
    response = _login(client, staff.user.username, PASSWORD, staff.token())
    assert response.status_code == 429
    assert "15分間制限" in response.content.decode()
    assert client.get("/").status_code == 302


def test_totp_failures_count_towards_the_lock(town_a, make_staff) -> None:
    staff = make_staff(town_a)
    wrong = f"{(int(staff.token()) + 500000) % 1000000:06d}"
    client = Client()
    for _ in range(5):
        _login(client, staff.user.username, PASSWORD, wrong)
    assert _login(client, staff.user.username, PASSWORD, staff.token()).status_code == 429


def test_open_redirect_is_refused(town_a, make_staff) -> None:
    staff = make_staff(town_a)
    client = Client()
    response = client.post(
        reverse("web:login") + "?next=https://evil.example/",
        {"username": staff.user.username, "password": PASSWORD, "otp_token": staff.token()},
    )
    assert response["Location"] == "/"


def test_security_headers(town_a, make_staff) -> None:
    response = Client().get(reverse("web:login"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_logout_is_post_only(town_a, make_staff) -> None:
    client = signed_in_client(make_staff(town_a))
    assert client.get(reverse("web:logout")).status_code == 405
    assert client.post(reverse("web:logout")).status_code == 302
    assert client.get("/").status_code == 302


def test_healthz(db) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_a_code_used_twice_is_refused_with_a_hint_but_without_saying_which(
    town_a, make_staff
) -> None:
    staff = make_staff(town_a)
    token = staff.token()
    first = Client()
    assert _login(first, staff.user.username, PASSWORD, token).status_code == 302
    again = Client()
    response = _login(again, staff.user.username, PASSWORD, token)  # same 30-second window
    assert response.status_code == 401
    html = response.content.decode()
    assert "ユーザー名、パスワードまたは確認コードが正しくありません" in html
    assert (
        "確認コードは30秒ごとに変わります。直前に使ったコードはもう一度は使えません。"
        "続けてログインするときは、次のコードが表示されてから入力してください。"
    ) in html
    assert again.get("/").status_code == 302
    # The same page for a wrong password: nothing tells which factor failed.
    wrong = _login(Client(), staff.user.username, "not-the-password", staff.token())
    assert _error_block(wrong.content.decode()) == _error_block(html)


def test_the_hint_is_not_shown_before_a_failure(db) -> None:
    html = Client().get(reverse("web:login")).content.decode()
    assert "30秒ごとに変わります" not in html


def _error_block(html: str) -> str:
    """The error and the hint below it, as the page shows them."""
    start = html.index('<p class="error" role="alert">')
    return html[start : html.index("</p>", html.index('data-testid="otp-hint"'))]
