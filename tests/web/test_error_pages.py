"""Error pages are Japanese, inside the staff shell where that is safe, with a way home."""

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import path
from django.views import defaults
from django.views.csrf import csrf_failure

from moyai.platform.models import Role
from moyai.web.urls import urlpatterns as site_patterns

from ..conftest import signed_in_client


def _boom(request) -> HttpResponse:
    raise RuntimeError("計算の途中で失敗")


urlpatterns = [path("boom/", _boom), *site_patterns]


def test_404_for_a_signed_in_clerk_is_japanese_in_the_shell(town_a, make_staff) -> None:
    client = signed_in_client(make_staff(town_a, Role.REGISTRY))
    response = client.get("/registry/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "ページが見つかりません" in html
    assert '<a href="/">ホームへ戻る</a>' in html
    assert 'data-testid="municipality">神奈川県 葉山町<' in html  # the shell's header
    assert "住民検索" in html  # and the clerk's menu
    assert "Not Found" not in html and "requested resource" not in html


def test_404_for_an_unknown_person(town_a, make_staff) -> None:
    client = signed_in_client(make_staff(town_a, Role.REGISTRY))
    response = client.get("/registry/persons/999999/")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()


def test_404_when_signed_out(db) -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="ja">' in html and "ページが見つかりません" in html


def test_403_for_a_staff_member_without_the_role_is_japanese(town_a, make_staff) -> None:
    client = signed_in_client(make_staff(town_a, Role.REGISTRY))
    response = client.get("/tax/resident/")
    assert response.status_code == 403
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "このページを表示する権限がありません" in html
    assert "この業務の権限がありません" in html  # the reason the view gave
    assert '<a href="/">ホームへ戻る</a>' in html
    assert 'data-testid="municipality">神奈川県 葉山町<' in html
    assert "Forbidden" not in html


@override_settings(ROOT_URLCONF=__name__)
def test_500_is_japanese_and_needs_neither_context_processors_nor_database(
    town_a, make_staff, django_assert_num_queries
) -> None:
    client = signed_in_client(make_staff(town_a, Role.REGISTRY))
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "システムでエラーが発生しました" in html
    assert '<a href="/">ホームへ戻る</a>' in html
    assert "計算の途中で失敗" not in html  # nothing of the error itself
    # Rendered on its own, with no request and no database (the handler Django calls).
    with django_assert_num_queries(0):
        alone = defaults.server_error(RequestFactory().get("/"))
    assert alone.status_code == 500
    assert "システムでエラーが発生しました" in alone.content.decode()


def test_500_renders_without_a_database() -> None:
    # No ``db`` fixture: pytest-django refuses any query, so this proves none is made.
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert '<html lang="ja">' in html and "システムでエラーが発生しました" in html


@pytest.mark.parametrize(
    ("handler", "status", "text"),
    [
        (lambda r: defaults.bad_request(r, Exception("x")), 400, "要求を処理できません"),
        (
            lambda r: csrf_failure(r, reason="CSRF token missing."),
            403,
            "操作を受け付けませんでした",
        ),
    ],
)
def test_pages_rendered_without_a_request_context(handler, status, text) -> None:
    response = handler(RequestFactory().get("/"))
    assert response.status_code == status
    html = response.content.decode()
    assert '<html lang="ja">' in html and text in html and "ホームへ戻る" in html


def test_a_refused_csrf_post_is_japanese_and_changes_nothing(town_a, make_staff) -> None:
    staff = make_staff(town_a, Role.REGISTRY)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/login/", {"username": staff.user.username, "password": "x", "otp_token": "000000"}
    )
    assert response.status_code == 403
    assert "セキュリティ確認（CSRF）に失敗した" in response.content.decode()
    assert client.get("/").status_code == 302  # still signed out
