"""The demo 協議会's 割り勘: memberships from the start of the 年度, realistic cost pools, last
month's allocation closed (statements issued) and this month's as a draft."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from django.utils import timezone

from moyai.operations.billing import rules, services
from moyai.operations.billing.models import PoolCategory, PoolPeriod, PoolRule, UsageBasis
from moyai.platform.audit import Actor, acting_as
from moyai.platform.models import Council, Municipality

ALL_BUSINESSES = [code for code, _ in rules.BUSINESSES]


def demo_pools(start: date, this_month: date) -> list[services.PoolData]:
    """Pools of a small 町村 協議会 (yen): a shared data centre and licences, 組織運営費 split
    均等割：人口割 = 4：6 as in the seed's 神奈川県町村会 case, 業務別従量 and a one-off 移行費.
    The pool split by 異動件数 starts this month (the demo's 異動 are all processed today)."""
    return [
        services.PoolData(
            name="データセンター（ハウジング・回線）",
            category=PoolCategory.DATA_CENTRE,
            rule=PoolRule.EQUAL_POPULATION,
            period=PoolPeriod.ANNUAL,
            amount=18_000_000,
            valid_from=start,
        ),
        services.PoolData(
            name="パッケージ・ミドルウェアのライセンス",
            category=PoolCategory.LICENCES,
            rule=PoolRule.USAGE,
            period=PoolPeriod.ANNUAL,
            amount=24_000_000,
            basis=UsageBasis.BUSINESS_MONTHS,
            valid_from=start,
        ),
        services.PoolData(
            name="組織運営費",
            category=PoolCategory.OPERATIONS,
            rule=PoolRule.EQUAL_POPULATION,
            period=PoolPeriod.MONTHLY,
            amount=1_200_000,
            equal_ratio=4,
            population_ratio=6,
            valid_from=start,
        ),
        services.PoolData(
            name="住民記録システムの改修（制度改正対応）",
            category=PoolCategory.DEVELOPMENT,
            rule=PoolRule.USAGE,
            period=PoolPeriod.MONTHLY,
            amount=300_000,
            basis=UsageBasis.TRANSACTIONS,
            business="registry",
            valid_from=this_month,
        ),
        services.PoolData(
            name="基幹系業務 月額利用料（業務別従量）",
            category=PoolCategory.OPERATIONS,
            rule=PoolRule.UNIT_PRICE,
            unit_prices={code: 45_000 for code in ALL_BUSINESSES},
            valid_from=start,
        ),
        services.PoolData(
            name="データ移行費（参加時）",
            category=PoolCategory.MIGRATION,
            rule=PoolRule.JOIN,
            amount=8_760_000,
            valid_from=start,
        ),
    ]


def seed_billing_demo(*, council: Council, municipalities: Sequence[Municipality]) -> None:
    """Idempotent enough for the demo: does nothing when the 協議会 already has pools."""
    from moyai.documents.pdf import FontMissing, font_path

    if council.billing_pools.exists():
        return
    today = timezone.localdate()
    fiscal_start = date(rules.fiscal_year_of(today), 4, 1)
    this_month = rules.month_start(today)
    with acting_as(Actor(username="cli:demo", channel="cli")):
        for m in municipalities:
            services.membership_add(
                council=council, municipality=m, joined_on=fiscal_start, businesses=ALL_BUSINESSES
            )
        for data in demo_pools(fiscal_start, this_month):
            services.pool_create(council=council, data=data)
        if this_month > fiscal_start:
            last = rules.month_start(this_month - timedelta(days=1))
            run = services.allocation_run(council=council, month=last)
            try:
                font_path()
            except FontMissing:
                pass  # the month stays a draft: statements need the IPAmj明朝 font
            else:
                services.allocation_close(run=run)
        services.allocation_run(council=council, month=this_month)
