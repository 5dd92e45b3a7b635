"""割り勘の操作: monthly allocation from registry counts, draft/closed, statements, audit."""

from __future__ import annotations

from datetime import date

import pytest

from moyai.operations.billing import selectors, services
from moyai.operations.billing.models import (
    AllocationRun,
    CostPool,
    Membership,
    PoolCategory,
    PoolRule,
    RunStatus,
    Statement,
    UsageRecord,
)
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent, OutboxEvent
from moyai.platform.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def _statements(towns):
    result = {}
    for town in towns:
        with tenant_context(town):
            result[town.code] = list(Statement.objects.all())
    return result


def _audit_counts(towns):
    counts = {}
    for town in towns:
        with tenant_context(town):
            counts[town.code] = AuditEvent.objects.count()
    return counts


def test_month_allocation_from_registry_counts(consortium, this_month, cli_actor) -> None:
    a, b, c = consortium["towns"]
    run = services.allocation_run(council=consortium["council"], month=this_month)
    assert run.status == RunStatus.DRAFT
    # 人口 3 / 2 / 1 from the registry; 4:6 weights 24 + 18p = 78 / 60 / 42 of 180:
    # 433,333.3 / 333,333.3 / 233,333.3 → the one yen left goes to the largest weight.
    populations = {m["code"]: m["population"] for m in run.inputs["members"]}
    assert populations == {a.code: 3, b.code: 2, c.code: 1}
    statements = _statements((a, b, c))
    org = {
        code: next(x for x in s[0].lines if x["pool"] == "組織運営費")["amount"]
        for code, s in statements.items()
    }
    assert org == {a.code: 433_334, b.code: 333_333, c.code: 233_333}
    # 住民記録の改修 90,000円 by 異動 processed this month: 2 / 1 / 1
    dev = {
        code: next(x for x in s[0].lines if x["pool"] == "住民記録の改修")["amount"]
        for code, s in statements.items()
    }
    assert dev == {a.code: 45_000, b.code: 22_500, c.code: 22_500}
    assert run.total == 1_090_000
    assert sum(s[0].total for s in statements.values()) == run.total
    assert "均等割4：人口割6（人口 3人／計 6人、3団体）" in [
        x["basis"] for x in statements[a.code][0].lines
    ]
    usage = UsageRecord.objects.filter(municipality=a, month=this_month)
    assert {(u.metric, u.business): u.quantity for u in usage} == {
        ("population", ""): 3,
        ("transactions", "registry"): 2,
    }
    with tenant_context(a):
        counted = AuditEvent.objects.filter(target_type="registry_count").get()
        assert counted.detail == {"population": 3, "movements": 2}
        assert AuditEvent.objects.filter(target_type="billing_statement").count() == 1


def test_draft_recomputes_in_place_and_closed_month_is_refused(
    consortium, this_month, cli_actor, in_town
) -> None:
    from .arrange import move_in_household

    a, b, c = consortium["towns"]
    council = consortium["council"]
    first = services.allocation_run(council=council, month=this_month)
    move_in_household(c, in_town, 3)  # 大磯町 now 4 people, 2 異動
    again = services.allocation_run(council=council, month=this_month)
    assert again.pk == first.pk and AllocationRun.objects.count() == 1
    assert {m["code"]: m["population"] for m in again.inputs["members"]}[c.code] == 4
    assert sum(s[0].total for s in _statements((a, b, c)).values()) == again.total == 1_090_000

    closed = services.allocation_close(run=again)
    assert closed.status == RunStatus.CLOSED
    before = (_audit_counts((a, b, c)), again.lines, _statements((a, b, c)))
    with pytest.raises(ServiceError, match="確定済み") as exc:
        services.allocation_run(council=council, month=this_month)
    assert exc.value.field == "month"
    after_run = AllocationRun.objects.get()
    assert (_audit_counts((a, b, c)), after_run.lines, _statements((a, b, c))) == before
    with pytest.raises(ServiceError, match="すでに確定"):
        services.allocation_close(run=after_run)


def test_close_issues_signed_statements_in_each_register(consortium, this_month, cli_actor) -> None:
    from moyai.documents.models import IssuedDocument

    from ...tax.property_fixtures import pdf_text

    a, b, c = consortium["towns"]
    run = services.allocation_run(council=consortium["council"], month=this_month)
    services.allocation_close(run=run)
    for town in (a, b, c):
        with tenant_context(town):
            statement = Statement.objects.get()
            assert statement.status == RunStatus.CLOSED
            doc = IssuedDocument.objects.get(serial=statement.document_serial)
            assert doc.kind == "billing.statement"
            assert OutboxEvent.objects.filter(type="billing.statement.closed").count() == 1
        pdf = selectors.statement_pdf(municipality=town, statement=statement)
        assert pdf.startswith(b"%PDF")
        text = pdf_text(pdf)
        assert f"{statement.total:,}円" in text
        assert "令和" in text and "湘南町村クラウド協議会（試験）" in text


def test_statement_csv(consortium, this_month, cli_actor) -> None:
    a = consortium["towns"][0]
    services.allocation_run(council=consortium["council"], month=this_month)
    with tenant_context(a):
        statement = Statement.objects.get()
    text = selectors.statement_csv(statement=statement, municipality=a).decode("utf-8")
    rows = [r.split(",") for r in text.strip().split("\r\n")]
    assert rows[0][0] == "協議会名" and rows[0][-1] == "金額（円）"
    assert rows[-1][5] == "合計" and rows[-1][-1] == "478334"
    assert rows[1][3].startswith("令和")


def test_membership_rules(consortium, this_month, cli_actor, make_town) -> None:
    a, b, c = consortium["towns"]
    council = consortium["council"]
    with pytest.raises(ServiceError, match="参加期間が重なります") as exc:
        services.membership_add(council=council, municipality=a, joined_on=date(2025, 1, 1))
    assert exc.value.field == "municipality"
    with pytest.raises(ServiceError) as exc:
        services.membership_add(
            council=council,
            municipality=make_town("143421", "二宮町"),
            joined_on=date(2025, 1, 1),
            businesses=["nonsense"],
        )
    assert exc.value.field == "businesses"
    # Leaving: billed through the month of the last day, gone from the recomputed draft.
    run = services.allocation_run(council=council, month=this_month)
    ms = Membership.objects.get(municipality=c)
    services.membership_end(membership=ms, left_on=this_month - _day())
    run = services.allocation_run(council=council, month=this_month)
    assert {m["code"] for m in run.inputs["members"]} == {a.code, b.code}
    assert _statements((c,))[c.code] == []
    with tenant_context(c):
        assert AuditEvent.objects.filter(target_type="billing_statement", action="delete").exists()
    assert sum(s[0].total for s in _statements((a, b)).values()) == run.total == 1_090_000
    # Closed months are final: nobody joins or leaves before them.
    services.allocation_close(run=run)
    with pytest.raises(ServiceError, match="確定済み") as exc:
        services.membership_add(
            council=council,
            municipality=make_town("143618", "中井町"),
            joined_on=this_month,
        )
    assert exc.value.field == "joined_on"
    with pytest.raises(ServiceError, match="確定済み"):
        services.membership_end(
            membership=Membership.objects.get(municipality=b), left_on=this_month - _day()
        )


def _day():
    from datetime import timedelta

    return timedelta(days=1)


def test_pool_validation_names_fields(consortium, cli_actor) -> None:
    council = consortium["council"]
    cases = [
        (dict(name=" "), "name"),
        (dict(rule="equal_population", amount=0), "amount"),
        (dict(rule="equal_population", amount=1, equal_ratio=0, population_ratio=0), "equal_ratio"),
        (dict(rule="unit_price"), "unit_prices"),
        (dict(rule="unit_price", unit_prices={"registry": -5}), "unit_prices"),
        (dict(rule="usage", amount=1, business="nonsense"), "business"),
        (dict(rule="equal_population", amount=1, valid_to=date(2024, 1, 1)), "valid_to"),
    ]
    for overrides, field in cases:
        data = dict(
            name="x",
            category=PoolCategory.LICENCES,
            rule="equal_population",
            amount=1,
            valid_from=date(2024, 4, 1),
        )
        data.update(overrides)
        with pytest.raises(ServiceError) as exc:
            services.pool_create(council=council, data=services.PoolData(**data))
        assert exc.value.field == field, overrides
    assert CostPool.objects.count() == 2
    with pytest.raises(ServiceError, match="登録済み"):
        services.pool_create(
            council=council,
            data=services.PoolData(
                name="組織運営費",
                category="operations",
                rule="equal_population",
                amount=1,
                valid_from=date(2024, 4, 1),
            ),
        )


def test_annual_pool_and_join_cost(consortium, this_month, cli_actor, make_town) -> None:
    council = consortium["council"]
    services.pool_create(
        council=council,
        data=services.PoolData(
            name="データセンター",
            category=PoolCategory.DATA_CENTRE,
            rule=PoolRule.EQUAL_POPULATION,
            period="annual",
            amount=12_000_005,
            valid_from=date(2024, 4, 1),
        ),
    )
    services.pool_create(
        council=council,
        data=services.PoolData(
            name="移行費",
            category=PoolCategory.MIGRATION,
            rule=PoolRule.JOIN,
            amount=8_760_000,
            valid_from=date(2024, 4, 1),
        ),
    )
    newcomer = make_town("143618", "中井町")
    services.membership_add(council=council, municipality=newcomer, joined_on=this_month)
    run = services.allocation_run(council=council, month=this_month)
    dc = [x for x in run.lines if x["pool"] == "データセンター"]
    from moyai.operations.billing import rules

    assert (
        sum(x["amount"] for x in dc)
        == rules.split_over_months(12_000_005)[rules.fiscal_month_index(this_month)]
    )
    join = [x for x in run.lines if x["pool"] == "移行費"]
    assert [(x["code"], x["amount"]) for x in join] == [(newcomer.code, 8_760_000)]
    # 中井町 has no residents: its 人口割 is 0, its 均等割 is not
    org = {x["code"]: x["amount"] for x in run.lines if x["pool"] == "組織運営費"}
    assert org[newcomer.code] == 100_000 and sum(org.values()) == 1_000_000


def test_nothing_to_allocate_is_refused(cli_actor, town_a) -> None:
    council = services.consortium_create(name="空の協議会")
    with pytest.raises(ServiceError, match="構成団体がありません"):
        services.allocation_run(council=council, month=date(2027, 4, 1))
    services.membership_add(council=council, municipality=town_a, joined_on=date(2027, 4, 1))
    with pytest.raises(ServiceError, match="費用プールがありません"):
        services.allocation_run(council=council, month=date(2027, 4, 1))
    assert AllocationRun.objects.count() == 0
    with pytest.raises(ServiceError, match="登録済み"):
        services.consortium_create(name="空の協議会")
