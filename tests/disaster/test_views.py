"""The staff screens of 被災者支援, the roles they need, and 応援: staff of another municipality
working on this one's 被災者台帳 under a time-limited grant, audited under their own name."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from moyai.disaster import services
from moyai.disaster.models import (
    DamageSurvey,
    Disaster,
    Dwelling,
    Programme,
    Victim,
    VictimHousehold,
)
from moyai.platform import services as platform_services
from moyai.platform.audit import Actor, acting_as
from moyai.platform.models import AuditEvent, Role
from moyai.platform.tenancy import tenant_context
from tests.conftest import signed_in_client

from .scenario import FLOOD_ON, TOWNS, build_town

pytestmark = pytest.mark.django_db


@pytest.fixture
def flood(town_a, in_town):
    with in_town(town_a):
        platform_services.profile_update(mayor_title="葉山町長", mayor_name="山田　太郎")
        town = build_town()
        disaster = services.disaster_register(
            code="R8-001",
            name="令和8年10月豪雨",
            kind="豪雨",
            occurred_on=FLOOD_ON,
            towns=TOWNS,
            support_act_on=FLOOD_ON,
        )
        services.ledger_build(disaster_id=disaster.pk)
    return town, disaster


def test_the_ledger_is_built_in_the_background(town_a, make_staff, in_town) -> None:
    """The button only asks for the build (a large area takes longer than a request may last);
    the worker builds it, and the page shows 作成中 until then. A built ledger is refused."""
    from moyai.disaster.tasks import build_ledger
    from moyai.platform.models import JobRun

    with in_town(town_a):
        build_town()
        disaster = services.disaster_register(
            code="R8-002",
            name="令和8年10月豪雨",
            kind="豪雨",
            occurred_on=FLOOD_ON,
            towns=TOWNS,
        )
    client = signed_in_client(make_staff(town_a, Role.DISASTER))
    detail = reverse("disaster:detail", args=[disaster.pk])
    assert "被災者台帳を作成する" in client.get(detail).content.decode()

    response = client.post(reverse("disaster:build", args=[disaster.pk]))
    assert response.status_code == 302
    with in_town(town_a):
        assert not Victim.objects.filter(disaster=disaster).exists()  # not in the request
        job = JobRun.objects.get(key=services.build_job_key(disaster.pk))
        assert job.finished_at is None
    page = client.get(detail).content.decode()
    assert 'data-testid="building"' in page and "被災者台帳を作成する" not in page

    victims = build_ledger.call(town_a.code, disaster.pk)  # what `moyai worker` does
    with in_town(town_a):
        assert victims == Victim.objects.filter(disaster=disaster).count() > 0
        job.refresh_from_db()
        assert job.finished_at is not None
    page = client.get(detail).content.decode()
    assert 'data-testid="summary"' in page and 'data-testid="building"' not in page
    assert build_ledger.call(town_a.code, disaster.pk) == victims  # again: nothing more

    client.post(reverse("disaster:build", args=[disaster.pk]))
    with in_town(town_a):
        assert not AuditEvent.objects.filter(
            target_type="disaster_ledger_request", detail__again=True
        ).exists()  # the refused request left no trace


def test_the_screens_need_the_disaster_role(town_a, make_staff, flood) -> None:
    _, disaster = flood
    registry_clerk = signed_in_client(make_staff(town_a, Role.REGISTRY))
    assert registry_clerk.get(reverse("disaster:index")).status_code == 403
    assert registry_clerk.get(reverse("disaster:detail", args=[disaster.pk])).status_code == 403


def test_every_screen_renders_and_the_forms_write(town_a, make_staff, in_town, flood) -> None:
    _town, disaster = flood
    client = signed_in_client(make_staff(town_a, Role.DISASTER))
    with in_town(town_a):
        h1 = VictimHousehold.objects.get(head_name="山田　太郎")
        shelter = services.shelter_open(
            disaster_id=disaster.pk, name="一色小学校", address="", capacity=5, opened_on=FLOOD_ON
        )
        programme = Programme.objects.get(code="support_basic")
    pages = [
        reverse("disaster:index"),
        reverse("disaster:roster"),
        reverse("disaster:detail", args=[disaster.pk]),
        reverse("disaster:households", args=[disaster.pk]) + "?q=ヤマダ",
        reverse("disaster:dwellings", args=[disaster.pk]),
        reverse("disaster:shelters", args=[disaster.pk]),
        reverse("disaster:safety", args=[disaster.pk]),
        reverse("disaster:programmes", args=[disaster.pk]),
        reverse("disaster:gaps", args=[disaster.pk]),
        reverse("disaster:household", args=[h1.pk]),
        reverse("disaster:dwelling", args=[h1.dwelling_id]),
        reverse("disaster:shelter", args=[shelter.pk]) + "?kana=ヤマダ",
        reverse("disaster:programme", args=[programme.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "山田　太郎" in client.get(pages[3]).content.decode()
    assert "山田　花子" in client.get(pages[11]).content.decode()

    # 被害認定 → り災証明書 → 申請 through the forms
    bad = client.post(
        reverse("disaster:dwelling", args=[h1.dwelling_id]),
        {"kind": "first", "method": "site", "surveyed_on": "2026-10-15", "ratio": "x"},
        follow=True,
    )
    assert "損害割合は数値" in bad.content.decode()
    client.post(
        reverse("disaster:dwelling", args=[h1.dwelling_id]),
        {"kind": "first", "method": "site", "surveyed_on": "2026-10-15", "ratio": "55.0"},
    )
    pdf = client.post(
        reverse("disaster:certificate", args=[h1.pk]),
        {"kind": "damage", "requester": "山田　太郎", "purpose": "保険の請求"},
    )
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    client.post(
        reverse("disaster:household", args=[h1.pk]),
        {
            "action": "application",
            "programme": programme.pk,
            "applied_on": "2026-11-01",
            "bank_code": "0001",
            "branch_code": "001",
            "account_type": "1",
            "account_number": "1234567",
            "account_holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ",
        },
    )
    with in_town(town_a):
        application = programme.applications.get()
    client.post(
        reverse("disaster:household", args=[h1.pk]),
        {
            "action": "decide",
            "application": application.pk,
            "approve": "1",
            "decided_on": "2026-11-10",
        },
    )
    page = client.get(reverse("disaster:household", args=[h1.pk])).content.decode()
    assert "全壊" in page and "1,000,000" in page
    assert "昭和47年8月15日" in page and "1972-08-15" not in page  # 生年月日 in 和暦
    gaps = client.get(
        reverse("disaster:gaps", args=[disaster.pk]), {"status": "未払"}
    ).content.decode()
    assert "<p>1 件</p>" in gaps and "山田　太郎" in gaps  # decided, not paid yet
    csv = client.post(reverse("disaster:programme", args=[programme.pk]), {"action": "export"})
    assert csv.status_code == 200 and "1000000" in csv.content.decode("utf-8-sig")
    # 避難所の受付
    with in_town(town_a):
        hanako = Victim.objects.get(name="山田　花子")
    client.post(
        reverse("disaster:shelter", args=[shelter.pk]),
        {"action": "check_in", "victim": hanako.pk, "consent": "1"},
    )
    listing = client.get(reverse("disaster:shelter", args=[shelter.pk])).content.decode()
    assert '<strong data-testid="present">1</strong>' in listing and "山田　花子" in listing
    # 災害の登録 (validation names the field)
    resp = client.post(reverse("disaster:index"), {"code": "", "name": "x"}, follow=True)
    assert "発生日は西暦の年-月-日で入力してください（例: 2026-04-01）" in resp.content.decode()
    resp = client.post(
        reverse("disaster:index"),
        {"code": "", "name": "x", "kind": "地震", "occurred_on": "2026-11-01", "towns": "一色"},
    )
    assert "災害コードを入力してください" in resp.content.decode()
    with in_town(town_a):
        assert Disaster.objects.count() == 1


def test_support_staff_of_another_town_work_under_their_own_name(
    town_a, town_b, make_staff, in_town, flood
) -> None:
    _, _disaster = flood
    admin_a = make_staff(town_a, Role.ADMIN)
    helper = make_staff(town_b, Role.DISASTER, username="samukawa-disaster")
    with in_town(town_a):
        h2 = VictimHousehold.objects.get(head_name="鈴木　一郎")
    client = signed_in_client(helper)
    # without a grant: B's staff cannot see A's ledger (404, A's ids do not exist for B)
    assert client.get(reverse("disaster:household", args=[h2.pk])).status_code == 404
    now = timezone.now()
    with acting_as(
        Actor(
            username=admin_a.user.username,
            channel="web",
            user_id=admin_a.user.pk,
            municipality_code=town_a.code,
        )
    ):
        grant = platform_services.support_grant_create(
            host=town_a,
            granted_by=admin_a.user,
            grantee_username=helper.user.username,
            roles=[Role.DISASTER],
            reason="令和8年10月豪雨の応援",
            starts_at=now - timedelta(minutes=1),
            expires_at=now + timedelta(days=3),
        )
    assert client.post(reverse("web:support_enter", args=[grant.pk])).status_code == 302
    assert client.get(reverse("disaster:household", args=[h2.pk])).status_code == 200
    client.post(
        reverse("disaster:dwelling", args=[h2.dwelling_id]),
        {"kind": "first", "method": "site", "surveyed_on": "2026-10-16", "ratio": "42.0"},
    )
    with tenant_context(town_a):
        survey = DamageSurvey.objects.get(dwelling_id=h2.dwelling_id)
        assert survey.surveyor == "samukawa-disaster"
        assert Dwelling.objects.get(pk=h2.dwelling_id).level == "large_half"
        touched = AuditEvent.objects.filter(support_grant_id=grant.pk).exclude(
            target_type="support_grant"
        )
        assert {e.actor_username for e in touched} == {"samukawa-disaster"}
        assert {e.actor_municipality_code for e in touched} == {town_b.code}
        assert {"disaster_household", "disaster_dwelling"} <= {e.target_type for e in touched}
    # after the grant ends, the helper is back home: A's screens are gone
    with acting_as(
        Actor(
            username=admin_a.user.username,
            channel="web",
            user_id=admin_a.user.pk,
            municipality_code=town_a.code,
        )
    ):
        platform_services.support_grant_revoke(host=town_a, grant=grant, revoked_by=admin_a.user)
    assert client.get(reverse("disaster:household", args=[h2.pk])).status_code == 404
    with tenant_context(town_a):
        assert DamageSurvey.objects.count() == 1


def test_roster_normal_and_disaster_time(town_a, make_staff, in_town, flood) -> None:
    town, _ = flood
    with in_town(town_a):
        ito = town.persons["h7"][0]  # 1940 生, ひとり暮らし
        services.support_need_set(
            person_id=ito, care_level="要介護1", consent="yes", consent_on=date(2026, 8, 1)
        )
        tanaka = town.persons["h5"][0]
        services.support_need_set(
            person_id=tanaka, disability="身体1級", consent="no", consent_on=date(2026, 8, 1)
        )
        from moyai.disaster.selectors import support_roster

        roster = support_roster(on=date(2026, 11, 30), purpose="名簿の確認")
        assert [(e.name, e.reasons) for e in roster.normal] == [
            ("伊藤　静", ["ひとり暮らし高齢者（要介護1）", "75歳以上のみの世帯"])
        ]
        # 田中 did not consent; 鈴木 (76, alone) never answered: both only in the disaster-time list
        assert {e.name for e in roster.disaster_only} == {"田中　修", "鈴木　一郎"}
    client = signed_in_client(make_staff(town_a, Role.DISASTER))
    page = client.get(reverse("disaster:roster") + "?mode=diff").content.decode()
    assert "田中　修" in page and "伊藤　静" not in page
    with in_town(town_a):
        suzuki = Victim.objects.get(name="鈴木　一郎").address_number
    bad = client.post(
        reverse("disaster:roster"), {"address_number": suzuki, "consent": "yes"}, follow=True
    )
    assert "同意を確認した日を入力してください" in bad.content.decode()
    client.post(
        reverse("disaster:roster"),
        {
            "address_number": suzuki,
            "care_level": "要支援2",
            "consent": "yes",
            "consent_on": "2026-11-01",
        },
    )
    page = client.get(reverse("disaster:roster") + "?mode=normal").content.decode()
    assert "鈴木　一郎" in page and "ひとり暮らし高齢者（要支援2）" in page


def test_api(town_a, make_staff, in_town, flood) -> None:
    _, disaster = flood
    client = signed_in_client(make_staff(town_a, Role.DISASTER))
    listing = client.get("/api/v1/disaster/disasters").json()
    assert [(d["code"], d["baseline_on"], d["built"]) for d in listing] == [
        ("R8-001", "2026-10-09", True)
    ]
    with in_town(town_a):
        h1 = VictimHousehold.objects.get(head_name="山田　太郎")
    bad = client.post(
        f"/api/v1/disaster/dwellings/{h1.dwelling_id}/surveys",
        {"kind": "first", "method": "site", "surveyed_on": "2026-10-15", "ratio": "120"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "ratio"
    ok = client.post(
        f"/api/v1/disaster/dwellings/{h1.dwelling_id}/surveys",
        {"kind": "first", "method": "site", "surveyed_on": "2026-10-15", "ratio": "50.0"},
        content_type="application/json",
    )
    assert ok.json() == {"seq": 1, "level": "全壊", "ratio": 500}
    detail = client.get(f"/api/v1/disaster/households/{h1.pk}", {"purpose": "支援の案内"}).json()
    assert detail["level"] == "全壊" and len(detail["members"]) == 3
    support = {s["programme"]: s["entitled"] for s in detail["support"]}
    assert support["被災者生活再建支援金（基礎支援金）"] == 1_000_000
    gaps = client.get(f"/api/v1/disaster/disasters/{disaster.pk}/gaps").json()
    assert gaps["counts"]["未申請"] == 2  # h1: 基礎 and 加算
    assert client.get("/api/v1/disaster/households/999999", {"purpose": "x"}).status_code == 404
