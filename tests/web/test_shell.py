"""The staff shell: icon, role labels, the home page of a role with no screens yet, and the
template filters that show stored codes in Japanese."""

import re
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from moyai.platform import services
from moyai.platform.audit import Actor, acting_as
from moyai.platform.models import Role
from moyai.web import labels
from moyai.web.menu import roles_without_screens

from ..conftest import signed_in_client


def test_every_page_declares_an_icon_so_browsers_do_not_ask_for_favicon_ico(
    town_a, make_staff
) -> None:
    pages = [
        Client().get(reverse("web:login")),
        signed_in_client(make_staff(town_a, Role.REGISTRY)).get("/"),
        Client().get("/no-such-page/"),
    ]
    for page in pages:
        icon = re.search(
            r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page.content.decode()
        )
        assert icon is not None
        assert icon.group(1) == "/static/web/favicon.svg"
    found = finders.find("web/favicon.svg")
    assert found is not None
    with open(found, encoding="utf-8") as svg:
        assert svg.read().startswith("<svg xmlns=")


def _grant(host, admin, grantee_username: str, roles: list[Role]):
    now = timezone.now() - timedelta(minutes=1)
    with acting_as(
        Actor(
            username=admin.user.username,
            user_id=admin.user.pk,
            channel="web",
            municipality_code=host.code,
        )
    ):
        return services.support_grant_create(
            host=host,
            granted_by=admin.user,
            grantee_username=grantee_username,
            roles=roles,
            reason="豪雨災害の応援",
            starts_at=now,
            expires_at=now + timedelta(days=3),
        )


def test_support_grants_show_role_labels_not_values(town_a, town_b, make_staff) -> None:
    admin_a = make_staff(town_a, Role.ADMIN)
    helper_b = make_staff(town_b, Role.DISASTER, Role.TAX)
    _grant(town_a, admin_a, helper_b.user.username, [Role.DISASTER, Role.TAX])
    home = signed_in_client(helper_b).get("/").content.decode()
    assert "<td>被災者支援・税務</td>" in home
    grants = signed_in_client(admin_a).get(reverse("platform:grants")).content.decode()
    assert "<td>被災者支援・税務</td>" in grants
    for html in (home, grants):
        assert ">disaster" not in html and "disaster・" not in html


def test_home_of_a_role_without_screens_says_they_are_not_built(town_a, make_staff) -> None:
    html = signed_in_client(make_staff(town_a, Role.HEALTH_INSURANCE)).get("/").content.decode()
    assert "国保の業務画面は、まだ作られていません（この版では未実装です）。" in html
    assert "ログインはできますが、今は利用できる業務がありません。" in html
    assert "団体管理者に権限を確認してください" not in html


def test_home_of_a_role_with_screens_has_no_such_note(town_a, make_staff) -> None:
    html = signed_in_client(make_staff(town_a, Role.REGISTRY)).get("/").content.decode()
    assert "まだ作られていません" not in html and "利用できる業務がありません" not in html
    both = signed_in_client(make_staff(town_a, Role.REGISTRY, Role.HEALTH_INSURANCE))
    html = both.get("/").content.decode()
    assert "国保の業務画面は、まだ作られていません" in html and "住民検索" in html
    assert "今は利用できる業務がありません" not in html


def test_roles_without_screens() -> None:
    assert roles_without_screens(frozenset({Role.HEALTH_INSURANCE})) == ["国保"]
    assert roles_without_screens(frozenset(Role) - {Role.HEALTH_INSURANCE}) == []


@pytest.mark.parametrize(
    ("username", "shown"),
    [
        ("cli:demo", "コマンド（demo）"),
        ("cli:root", "コマンド（root）"),
        ("task:moyai.operations.billing.tasks.close_month", "自動処理（close_month）"),
        ("public:verify", "公開画面（verify）"),
        ("143014-registry", "143014-registry"),
        ("someone:else", "someone:else"),
        ("", ""),
    ],
)
def test_actor_label(username, shown) -> None:
    assert labels.actor_label(username) == shown


def test_labels_fall_back_to_the_stored_value() -> None:
    assert labels.target_type_label("person") == "住民"
    assert labels.target_type_label("household") == "世帯"
    assert labels.target_type_label("something_new") == "something_new"
    assert labels.channel_label("web") == "画面"
    assert labels.channel_label("cli") == "コマンド"
    assert labels.channel_label("task") == "自動処理"
    assert labels.channel_label("api") == "API"
    assert labels.channel_label("fax") == "fax"
    assert labels.role_labels(["disaster", "nope"]) == ["被災者支援", "nope"]


def test_detail_rows() -> None:
    rows = labels.detail_rows(
        {"serial": "143014-2026-000007", "items": {"本籍": True}, "rows": [1, 2], "ok": False}
    )
    assert [(r.key, r.label, r.text, r.structured) for r in rows] == [
        ("serial", "証明書番号", "143014-2026-000007", False),
        ("items", "記載事項", '{\n  "本籍": true\n}', True),
        ("rows", "行", "[1, 2]", False),
        ("ok", "ok", "いいえ", False),
    ]
    assert labels.detail_rows({}) == [] and labels.detail_rows(None) == []


def test_filters_load_in_any_template() -> None:
    html = Template(
        "{% load moyai_labels %}{{ roles|role_labels }}|{{ who|actor_label }}|"
        "{{ t|target_type_label }}|{{ c|channel_label }}"
    ).render(Context({"roles": ["registry", "tax"], "who": "cli:demo", "t": "person", "c": "api"}))
    assert html == "住民記録・税務|コマンド（demo）|住民|API"


def test_every_target_type_written_by_the_project_has_a_label() -> None:
    """Collect the literal ``target_type=`` values (and issued documents' subjects) in the
    source; the names built from a prefix (``property_{kind}`` …) are listed by hand."""
    import ast
    from pathlib import Path

    import moyai

    root = Path(moyai.__file__).parent
    written: set[str] = set()
    for source in root.rglob("*.py"):
        if "migrations" in source.parts:
            continue
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            for kw in node.keywords:
                # An issued document's subject is recorded as the audit row's target.
                if kw.arg != "target_type" and (kw.arg, name) != ("subject_type", "document_issue"):
                    continue
                values = [kw.value]
                if isinstance(kw.value, ast.IfExp):
                    values = [kw.value.body, kw.value.orelse]
                written |= {v.value for v in values if isinstance(v, ast.Constant)}
    written -= {""}
    assert written - set(labels.TARGET_TYPES) == set()
