from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from moyai.platform import services
from moyai.platform.audit import Actor, acting_as
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent, Role, SupportGrant
from moyai.platform.tenancy import tenant_context

from ..conftest import acts_recorded, signed_in_client


def test_menu_follows_roles(town_a, make_staff) -> None:
    admin = signed_in_client(make_staff(town_a, Role.ADMIN)).get("/").content.decode()
    clerk = signed_in_client(make_staff(town_a, Role.REGISTRY)).get("/").content.decode()
    assert "監査ログ" in admin and "応援権限" in admin
    assert "監査ログ" not in clerk


def test_screens_refuse_staff_without_the_role(town_a, make_staff) -> None:
    clerk = signed_in_client(make_staff(town_a, Role.REGISTRY))
    for name in ("platform:audit", "platform:grants", "platform:staff", "platform:tenants"):
        assert clerk.get(reverse(name)).status_code == 403, name


def test_operator_sees_counts_but_no_tenant_screens(town_a, town_b, make_staff, in_town) -> None:
    from moyai.platform.audit import audit_record

    with in_town(town_a):
        audit_record(action="read", target_type="person", target_id="1", purpose="髙橋さんの確認")
    operator = signed_in_client(make_staff(None, Role.OPERATOR, username="op"))
    page = operator.get(reverse("platform:tenants"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "143014" in html and "寒川町" in html
    assert "髙橋" not in html
    for name in ("platform:audit", "platform:grants", "platform:staff"):
        assert operator.get(reverse(name)).status_code == 403, name
    assert operator.get("/api/v1/events").status_code == 403


def test_admin_searches_the_audit_log_and_the_search_is_audited(
    town_a, make_staff, in_town
) -> None:
    from moyai.platform.audit import audit_record

    with in_town(town_a):
        audit_record(action="print", target_type="person", target_id="77", purpose="住民票の写し")
    admin = signed_in_client(make_staff(town_a, Role.ADMIN))
    page = admin.get(reverse("platform:audit"), {"target_id": "77", "purpose": "定期点検"})
    assert page.status_code == 200
    assert "住民票の写し" in page.content.decode()
    with tenant_context(town_a):
        last = AuditEvent.objects.order_by("-seq").first()
    assert last.target_type == "audit_log" and last.purpose == "定期点検"


def _grant(host, admin, grantee, *, start=None, days=3):
    start = start or timezone.now() - timedelta(minutes=1)
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
            grantee_username=grantee.user.username,
            roles=[Role.DISASTER],
            reason="豪雨災害の応援",
            starts_at=start,
            expires_at=start + timedelta(days=days),
        )


def test_support_grant_lets_another_towns_staff_act_here_and_is_audited(
    town_a, town_b, make_staff
) -> None:
    admin_a = make_staff(town_a, Role.ADMIN)
    helper_b = make_staff(town_b, Role.DISASTER)
    grant = _grant(town_a, admin_a, helper_b)
    client = signed_in_client(helper_b)
    assert "寒川町" in client.get("/").content.decode()
    assert client.post(reverse("web:support_enter", args=[grant.pk])).status_code == 302
    home = client.get("/").content.decode()
    assert 'data-testid="municipality">神奈川県 葉山町<' in home
    assert "応援中（所属: 神奈川県 寒川町）" in home
    me = client.get("/api/v1/me").json()
    assert me["municipality_code"] == "143014" and me["roles"] == ["disaster"]
    assert me["support_grant_id"] == grant.pk
    with tenant_context(town_a):
        entered = AuditEvent.objects.get(target_type="support_grant", action="login")
    assert entered.actor_username == helper_b.user.username
    assert entered.actor_municipality_code == "143219"

    # Revoked: the next request is back at home, with home roles.
    with acting_as(Actor(username="admin", channel="web")):
        services.support_grant_revoke(host=town_a, grant=grant, revoked_by=admin_a.user)
    home = client.get("/").content.decode()
    assert 'data-testid="municipality">神奈川県 寒川町<' in home


def test_grants_cannot_be_entered_early_late_or_by_others(town_a, town_b, make_staff) -> None:
    admin_a = make_staff(town_a, Role.ADMIN)
    helper_b = make_staff(town_b, Role.DISASTER)
    other_b = make_staff(town_b, Role.DISASTER)
    future = _grant(town_a, admin_a, helper_b, start=timezone.now() + timedelta(days=1))
    current = _grant(town_a, admin_a, helper_b)
    assert (
        signed_in_client(helper_b).post(reverse("web:support_enter", args=[future.pk])).status_code
        == 404
    )
    assert (
        signed_in_client(other_b).post(reverse("web:support_enter", args=[current.pk])).status_code
        == 404
    )
    SupportGrant.objects.filter(pk=current.pk).update(
        starts_at=timezone.now() - timedelta(days=2), expires_at=timezone.now()
    )
    assert (
        signed_in_client(helper_b).post(reverse("web:support_enter", args=[current.pk])).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"roles": [Role.ADMIN]}, "roles"),
        ({"grantee": "self"}, "grantee"),
        ({"grantee": "nobody"}, "grantee"),
        ({"days": 120}, "expires_at"),
        ({"reason": " "}, "reason"),
    ],
)
def test_grant_validation_names_the_field(town_a, town_b, make_staff, change, field) -> None:
    admin_a = make_staff(town_a, Role.ADMIN)
    helper_b = make_staff(town_b, Role.DISASTER)
    grantee = {"self": admin_a.user.username, "nobody": "nobody"}.get(
        change.get("grantee", ""), helper_b.user.username
    )
    start = timezone.now()
    with acting_as(Actor(username="admin", channel="web")), pytest.raises(ServiceError) as err:
        services.support_grant_create(
            host=town_a,
            granted_by=admin_a.user,
            grantee_username=grantee,
            roles=change.get("roles", [Role.DISASTER]),
            reason=change.get("reason", "応援"),
            starts_at=start,
            expires_at=start + timedelta(days=change.get("days", 1)),
        )
    assert err.value.field == field
    assert not SupportGrant.objects.exists()
    with tenant_context(town_a):
        assert not acts_recorded().exists()


def test_grant_screen_creates_and_revokes(town_a, town_b, make_staff) -> None:
    admin_a = make_staff(town_a, Role.ADMIN)
    helper_b = make_staff(town_b, Role.DISASTER)
    client = signed_in_client(admin_a)
    now = timezone.localtime()
    response = client.post(
        reverse("platform:grants"),
        {
            "grantee": helper_b.user.username,
            "roles": ["disaster"],
            "reason": "地震の応援",
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "expires_at": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    grant = SupportGrant.objects.get()
    assert grant.host == town_a and grant.roles == ["disaster"]
    assert "地震の応援" in client.get(reverse("platform:grants")).content.decode()
    assert client.post(reverse("platform:grant_revoke", args=[grant.pk])).status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_a_denied_post_leaves_no_trace(town_a, town_b, make_staff) -> None:
    clerk = make_staff(town_a, Role.REGISTRY)
    helper_b = make_staff(town_b, Role.DISASTER)
    now = timezone.localtime()
    response = signed_in_client(clerk).post(
        reverse("platform:grants"),
        {
            "grantee": helper_b.user.username,
            "roles": ["disaster"],
            "reason": "権限のない付与",
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "expires_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 403
    assert not SupportGrant.objects.exists()
    with tenant_context(town_a):
        assert not acts_recorded().exclude(action="login").exists()


def test_admin_sets_the_mayor_printed_on_certificates(town_a, make_staff) -> None:
    from moyai.platform.selectors import municipality_profile

    admin = signed_in_client(make_staff(town_a, Role.ADMIN))
    assert admin.get(reverse("platform:profile")).status_code == 200
    bad = admin.post(reverse("platform:profile"), {"mayor_title": "葉山町長", "mayor_name": ""})
    assert bad.status_code == 400
    ok = admin.post(
        reverse("platform:profile"),
        {
            "mayor_title": "葉山町長",
            "mayor_name": "山田　太郎",
            "statement_household": "この写しは世帯全員の住民票と相違ないことを証明する。",
        },
    )
    assert ok.status_code == 302
    with tenant_context(town_a):
        profile = municipality_profile()
        assert profile.mayor_name == "山田　太郎"
        assert profile.certificate_statements == {
            "household": "この写しは世帯全員の住民票と相違ないことを証明する。"
        }
        assert AuditEvent.objects.filter(target_type="municipality_profile").count() == 1
    clerk = signed_in_client(make_staff(town_a, Role.REGISTRY))
    assert (
        clerk.post(reverse("platform:profile"), {"mayor_title": "x", "mayor_name": "y"}).status_code
        == 403
    )
