"""協議会の登録 and 構成団体の参加・脱退 are recorded in the audit log of every member municipality
they concern; a refused registration or join writes nothing anywhere."""

from __future__ import annotations

from datetime import date

import pytest

from moyai.operations.billing import services
from moyai.operations.billing.models import Membership
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent, Council
from moyai.platform.tenancy import tenant_context

from .arrange import ALL, traces

pytestmark = pytest.mark.django_db


def _rows(town, target_type: str) -> list[AuditEvent]:
    with tenant_context(town):
        return list(AuditEvent.objects.filter(target_type=target_type).order_by("seq"))


def test_registration_with_founders_is_in_each_founders_log(
    town_a, town_b, make_town, cli_actor
) -> None:
    town_c = make_town("143413", "大磯町")
    untouched = traces([town_c])  # its own registration only
    council = services.consortium_create(
        name="湘南町村クラウド協議会", founders=[town_b, town_a], joined_on=date(2027, 4, 1)
    )
    founders = sorted([town_a.code, town_b.code])
    for town in (town_a, town_b):
        [created] = _rows(town, "billing_council")  # not told again of the other's join
        assert (created.action, created.target_id, created.actor_username) == (
            "create",
            str(council.pk),
            "cli:test",
        )
        assert created.purpose == "湘南町村クラウド協議会の登録（設立団体）"
        assert created.detail == {
            "council": "湘南町村クラウド協議会",
            "founders": founders,
            "joined_on": "2027-04-01",
        }
        [joined] = _rows(town, "billing_membership")
        assert joined.action == "create" and joined.detail["businesses"] == ALL
    assert traces([town_c]) == untouched
    assert Membership.objects.filter(council=council).count() == 2


def test_registration_on_the_screen(town_a, operator) -> None:
    response = operator.post(
        "/operations/billing/",
        {
            "name": "画面の協議会",
            "founders": [town_a.code],
            "joined_on": "2027-04-01",
            "businesses": ["registry"],
        },
    )
    council = Council.objects.get(name="画面の協議会")
    assert response.status_code == 302 and response["Location"].endswith(f"/{council.pk}/")
    [created] = _rows(town_a, "billing_council")
    assert (created.actor_username, created.channel) == ("op-billing", "web")
    assert Membership.objects.get(council=council).businesses == ["registry"]


def test_a_refused_registration_writes_nothing(town_a, town_b, operator, cli_actor) -> None:
    services.consortium_create(name="既存の協議会", founders=[town_a], joined_on=date(2027, 4, 1))
    councils, members = Council.objects.count(), Membership.objects.count()
    before = traces((town_a, town_b))
    cases = [
        (dict(name=" "), "name"),
        (dict(name="既存の協議会", founders=[town_b], joined_on=date(2027, 4, 1)), "name"),
        (dict(name="新しい協議会", founders=[town_b]), "joined_on"),
        (
            dict(
                name="新しい協議会",
                founders=[town_b],
                joined_on=date(2027, 4, 1),
                businesses=["nonsense"],
            ),
            "businesses",
        ),
    ]
    for kwargs, field in cases:
        with pytest.raises(ServiceError) as exc:
            services.consortium_create(**kwargs)
        assert exc.value.field == field, kwargs
    # the screen asks for at least one 設立団体
    bad = operator.post("/operations/billing/", {"name": "新しい協議会", "joined_on": "2027-04-01"})
    assert bad.status_code == 400 and "設立団体を1つ以上選んでください" in bad.content.decode()
    assert (Council.objects.count(), Membership.objects.count()) == (councils, members)
    assert traces((town_a, town_b)) == before


def test_join_and_leave_are_in_the_log_of_every_member_concerned(
    consortium, cli_actor, make_town
) -> None:
    a, b, c = consortium["towns"]
    council = consortium["council"]
    # The fixture's joins (葉山町, 寒川町, 大磯町 in turn): each earlier member was told.
    assert [e.detail["joined"] for e in _rows(a, "billing_council")] == [b.code, c.code]
    assert [e.detail["joined"] for e in _rows(b, "billing_council")] == [c.code]
    assert _rows(c, "billing_council") == []
    # 大磯町 leaves at the end of March 2025: not concerned by a join from June 2025 on.
    services.membership_end(
        membership=Membership.objects.get(municipality=c), left_on=date(2025, 3, 31)
    )
    for town in (a, b):
        left = _rows(town, "billing_council")[-1]
        assert left.action == "update" and left.purpose.endswith("（大磯町の脱退）")
        assert left.detail == {
            "council": council.name,
            "left": c.code,
            "left_on": "2025-03-31",
            "membership": Membership.objects.get(municipality=c).pk,
        }
    [own] = [e for e in _rows(c, "billing_membership") if e.action == "update"]
    assert own.detail == {"left_on": "2025-03-31"}

    before_c = traces([c])
    d = make_town("143618", "中井町")
    joined = services.membership_add(council=council, municipality=d, joined_on=date(2025, 6, 1))
    for town in (a, b):
        told = _rows(town, "billing_council")[-1]
        assert told.purpose == f"{council.name}の構成団体の変更（中井町の参加）"
        assert told.detail == {
            "council": council.name,
            "joined": d.code,
            "joined_on": "2025-06-01",
            "membership": joined.pk,
        }
    assert traces([c]) == before_c  # a former member is not concerned
    [own] = _rows(d, "billing_membership")
    assert own.action == "create"

    # A refused join (the periods overlap) leaves nothing in anybody's log.
    before = traces((a, b, c, d))
    with pytest.raises(ServiceError, match="参加期間が重なります"):
        services.membership_add(council=council, municipality=d, joined_on=date(2026, 1, 1))
    assert traces((a, b, c, d)) == before
