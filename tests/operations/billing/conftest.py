"""Arrangements for the 割り勘 tests: towns with residents moved in through the registry."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.utils import timezone

from moyai.operations.billing import rules, services
from moyai.operations.billing.models import PoolCategory, PoolRule, UsageBasis

from ...conftest import signed_in_client
from .arrange import ALL, move_in_household


@pytest.fixture
def operator(make_staff: Any) -> Any:
    """A signed-in 基盤運用者 (username ``op-billing``)."""
    from moyai.platform.models import Role

    return signed_in_client(make_staff(None, Role.OPERATOR, username="op-billing"))


@pytest.fixture
def this_month() -> date:
    return rules.month_start(timezone.localdate())


@pytest.fixture
def consortium(
    town_a: Any, town_b: Any, make_town: Any, in_town: Any, cli_actor: Any, this_month: date
) -> dict[str, Any]:
    """葉山町 3人 (2 異動), 寒川町 2人 (1 異動), 大磯町 1人 (1 異動), all members since April
    2024; pools: 組織運営費 4:6 monthly 1,000,000円, 住民記録の改修 by 異動件数 90,000円."""
    town_c = make_town("143413", "大磯町")
    move_in_household(town_a, in_town, 2)
    move_in_household(town_a, in_town, 1)
    move_in_household(town_b, in_town, 2)
    move_in_household(town_c, in_town, 1)
    council = services.consortium_create(name="湘南町村クラウド協議会（試験）")
    for town in (town_a, town_b, town_c):
        services.membership_add(
            council=council, municipality=town, joined_on=date(2024, 4, 1), businesses=ALL
        )
    org = services.pool_create(
        council=council,
        data=services.PoolData(
            name="組織運営費",
            category=PoolCategory.OPERATIONS,
            rule=PoolRule.EQUAL_POPULATION,
            amount=1_000_000,
            valid_from=date(2024, 4, 1),
        ),
    )
    dev = services.pool_create(
        council=council,
        data=services.PoolData(
            name="住民記録の改修",
            category=PoolCategory.DEVELOPMENT,
            rule=PoolRule.USAGE,
            amount=90_000,
            basis=UsageBasis.TRANSACTIONS,
            business="registry",
            valid_from=date(2024, 4, 1),
        ),
    )
    return {"council": council, "towns": (town_a, town_b, town_c), "org": org, "dev": dev}
