"""割り勘の規則: the seed's figures as table tests; properties of the largest-remainder split."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moyai.operations.billing import rules

# 神奈川県町村会の事例 (seed): 全14町村、合計人口約30万人、組織運営費は 均等割:人口割 = 4:6.
# The seed gives the total only; the split of the 30万人 among the 14 町村 is illustrative.
KANAGAWA_14 = {
    "葉山町": 34_000,
    "寒川町": 52_000,
    "大磯町": 31_000,
    "二宮町": 28_000,
    "中井町": 9_500,
    "大井町": 17_000,
    "松田町": 11_000,
    "山北町": 10_500,
    "開成町": 17_000,
    "箱根町": 12_500,
    "真鶴町": 7_500,
    "湯河原町": 25_000,
    "愛川町": 42_000,
    "清川村": 3_000,
}
SCENARIO = Path(rules.__file__).resolve().parent / "scenarios" / "kanagawa_14.toml"


def test_seed_case_has_fourteen_members_and_300000_people() -> None:
    assert len(KANAGAWA_14) == 14
    assert sum(KANAGAWA_14.values()) == 300_000


def test_seed_rule_4_to_6_exactly() -> None:
    """14,000,000円 of 組織運営費: 均等割 40 % = 5,600,000円 → 400,000円 each; 人口割 60 % =
    8,400,000円 over 300,000 people → 28円 per person. Every share is exact (no rounding)."""
    shares = rules.allocate_equal_population(14_000_000, KANAGAWA_14, equal=4, per_capita=6)
    assert shares == {name: 400_000 + 28 * p for name, p in KANAGAWA_14.items()}
    assert shares["寒川町"] == 1_856_000
    assert shares["清川村"] == 484_000
    assert sum(shares.values()) == 14_000_000
    # the default ratio is the seed's 4:6
    assert rules.allocate_equal_population(14_000_000, KANAGAWA_14) == shares


def test_seed_rule_with_remainders_hand_computed() -> None:
    """1,000,000円, 3 members of 100 / 200 / 400 people, 4:6. Exact shares:
    A = 1e6·(0.4/3 + 0.6·100/700) = 219,047.619…, B = 304,761.904…, C = 476,190.476…
    Floors sum to 999,998: the 2 yen left go to B (.904) and A (.619)."""
    shares = rules.allocate_equal_population(1_000_000, {"A": 100, "B": 200, "C": 400})
    assert shares == {"A": 219_048, "B": 304_762, "C": 476_190}
    assert sum(shares.values()) == 1_000_000
    exact = rules.quotas(
        1_000_000,
        rules.equal_population_weights({"A": 100, "B": 200, "C": 400}, equal=4, per_capita=6),
    )
    assert exact["A"] == Fraction(1_000_000) * (Fraction(4, 30) + Fraction(6, 70))


def test_largest_remainder_ties_go_by_key() -> None:
    assert rules.largest_remainder(10, {"b": 1, "a": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert rules.largest_remainder(0, {"a": 0}) == {"a": 0}


def test_bad_inputs_name_the_field() -> None:
    with pytest.raises(rules.RuleInputError) as exc:
        rules.largest_remainder(-1, {"a": 1})
    assert exc.value.field == "amount"
    with pytest.raises(rules.RuleInputError, match="人口の合計が0"):
        rules.allocate_equal_population(100, {"a": 0, "b": 0})
    with pytest.raises(rules.RuleInputError, match="比率がどちらも0"):
        rules.allocate_equal_population(100, {"a": 1}, equal=0, per_capita=0)
    with pytest.raises(rules.RuleInputError, match="合計が0"):
        rules.largest_remainder(100, {"a": 0})


def test_unit_price_per_business_per_month() -> None:
    """業務別従量料金の月額単価 × 利用業務 (seed): 17業務 at 45,000円, 6 months used."""
    prices = {code: 45_000 for code, _ in rules.BUSINESSES}
    all_17 = tuple(prices)
    monthly = rules.charge_unit_prices(prices, {"town": all_17, "village": all_17[:12]})
    assert monthly == {"town": 765_000, "village": 540_000}
    assert 6 * monthly["town"] == 4_590_000


def test_annual_amount_over_twelve_months_sums_exactly() -> None:
    parts = rules.split_over_months(18_000_005)
    assert sum(parts) == 18_000_005
    assert parts[:5] == [1_500_001] * 5 and parts[5:] == [1_500_000] * 7


def test_member_in_month_whole_months() -> None:
    from datetime import date

    assert rules.is_member_in_month(date(2027, 4, 15), None, date(2027, 4, 1))
    assert not rules.is_member_in_month(date(2027, 5, 1), None, date(2027, 4, 1))
    assert rules.is_member_in_month(date(2027, 4, 1), date(2027, 6, 1), date(2027, 6, 1))
    assert not rules.is_member_in_month(date(2027, 4, 1), date(2027, 6, 30), date(2027, 7, 1))


def test_allocate_month_all_rules() -> None:
    pools = [
        rules.PoolInput("1", "組織運営費", rules.EQUAL_POPULATION, 1_000_000),
        rules.PoolInput(
            "2", "改修", rules.USAGE, 90_000, basis=rules.TRANSACTIONS, business="registry"
        ),
        rules.PoolInput("3", "ライセンス", rules.USAGE, 100_000),
        rules.PoolInput("4", "月額", rules.UNIT_PRICE, unit_prices={"registry": 10_000}),
        rules.PoolInput("5", "移行費", rules.JOIN, 5_000_000),
    ]
    members = [
        rules.MemberInput("A", 100, ("registry", "elections"), {"registry": 10}),
        rules.MemberInput("B", 200, ("registry",), {"registry": 20}, joining=True),
        rules.MemberInput("C", 400, ("elections",), {"registry": 0}),
    ]
    lines = rules.allocate_month(pools, members)
    by = {(line.pool, line.member): line.amount for line in lines}
    assert by[("1", "A")] == 219_048
    assert (by[("2", "A")], by[("2", "B")], by[("2", "C")]) == (30_000, 60_000, 0)
    assert (by[("3", "A")], by[("3", "B")], by[("3", "C")]) == (50_000, 25_000, 25_000)
    assert by[("4", "A")] == 10_000 and ("4", "C") not in by
    assert by[("5", "B")] == 5_000_000 and ("5", "A") not in by
    for key in ("1", "2", "3"):
        assert sum(v for (p, _), v in by.items() if p == key) == next(
            p.amount for p in pools if p.key == key
        )


def test_usage_pool_without_usage_is_refused() -> None:
    pool = rules.PoolInput("1", "改修", rules.USAGE, 90_000, basis=rules.TRANSACTIONS)
    with pytest.raises(rules.RuleInputError, match="改修"):
        rules.allocate_pool(pool, [rules.MemberInput("A", 1, (), {"registry": 0})])


# --- the seed's 5-year figures and the 10-year simulation ------------------------------------


def _seed_scenario(years: int = 5) -> rules.Scenario:
    """All 14 町村 from the first year (the seed's 5-year comparison)."""
    return rules.parse_scenario(
        {
            "start_year": 2011,
            "years": years,
            "pools": [
                {
                    "name": "基幹系業務",
                    "rule": "usage",
                    "base": 28_800_000,
                    "per_member": 32_800_000,
                },
                {
                    "name": "組織運営費",
                    "rule": "equal_population",
                    "base": 20_000_000,
                    "alone": False,
                },
                {"name": "移行費", "rule": "join", "join_cost": 41_428_572},
            ],
            "members": [{"name": n, "population": p} for n, p in KANAGAWA_14.items()],
        }
    )


def test_seed_five_year_costs() -> None:
    """新運用経費 (5年間) = 24.4億円; 総合コスト = 31.2億円 (運用経費＋移行費＋組織運営費), 27 %
    below 現行経費 43億円 — the cost of each town running alone, here 14 × 5 × 61,600,000円."""
    result = rules.simulate(_seed_scenario())
    running = sum(sum(y.by_pool["基幹系業務"].values()) for y in result.years)
    assert running == 2_440_000_000
    total = sum(y.total for y in result.years)
    assert round(total / 100_000_000, 1) == 31.2
    standalone = result.curve[0][1]  # alone: no 協議会, so no 組織運営費
    current = 14 * 5 * standalone
    assert round(current / 100_000_000) == 43
    assert int(rules.reduction_percent(total, current)) == 27
    # operating cost alone: the seed prints 44 %; 24.4 / 43 gives 43.3 %
    assert 43 <= rules.reduction_percent(running, current) < 44


def test_seed_claim_30_to_40_percent_is_on_the_curve() -> None:
    """割り勘効果: 30〜40 % lower cost per municipality (seed). The 基幹系 pool alone: 3 to 6
    members (31.2 % with 3, 39.0 % with 6, 43.4 % with all 14); with the 協議会's own 組織運営費
    (nothing of which a municipality alone pays): 5 to 11 members."""

    def cuts(pools: tuple[rules.ScenarioPool, ...]) -> dict[int, float]:
        alone = rules.running_cost_per_member(pools, 1)
        return {
            n: float(100 * (1 - rules.running_cost_per_member(pools, n) / alone))
            for n in range(1, 15)
        }

    core = cuts(_seed_scenario().pools[:1])
    assert all(30 <= core[n] <= 40 for n in range(3, 7))
    assert core[2] < 30 < 40 < core[7]
    assert round(core[14], 1) == 43.4
    full = cuts(_seed_scenario().pools)
    assert all(30 <= full[n] <= 40 for n in range(5, 12))
    assert full[4] < 30 < 40 < full[12]


def test_ten_year_scenario_file() -> None:
    import tomllib

    scenario = rules.parse_scenario(tomllib.loads(SCENARIO.read_text(encoding="utf-8")))
    result = rules.simulate(scenario)
    assert [y.year for y in result.years] == list(range(2027, 2037))
    assert [len(y.members) for y in result.years] == [5, 10, 14, 14, 14, 14, 14, 14, 13, 13]
    first = result.years[0]
    assert first.by_pool["移行費（参加時一時費用）"] == dict.fromkeys(first.members, 41_428_572)
    for y in result.years:
        for pool in scenario.pools:
            if pool.rule != rules.JOIN:
                assert sum(y.by_pool[pool.name].values()) == pool.annual_total(len(y.members))
    assert "清川村" not in result.years[-1].costs
    # 割り勘効果: the curve falls as members join
    costs = [c for _, c in result.curve]
    assert costs == sorted(costs, reverse=True) and len(costs) == 14


def test_scenario_errors_name_the_field() -> None:
    with pytest.raises(rules.RuleInputError) as exc:
        rules.parse_scenario(
            {
                "start_year": 2027,
                "pools": [{"name": "x", "base": 1}],
                "members": [{"name": "a", "population": -1}],
            }
        )
    assert exc.value.field == "members[0].population"
    with pytest.raises(rules.RuleInputError, match=r"members\[0\]\.leaves"):
        rules.parse_scenario(
            {
                "start_year": 2027,
                "pools": [{"name": "x", "base": 1}],
                "members": [{"name": "a", "population": 1, "joins": 2028, "leaves": 2028}],
            }
        )


# --- properties --------------------------------------------------------------------------------

populations = st.dictionaries(
    st.text(alphabet="abcdefghij", min_size=1, max_size=3),
    st.integers(min_value=0, max_value=500_000),
    min_size=1,
    max_size=20,
).filter(lambda d: sum(d.values()) > 0)
amounts = st.integers(min_value=0, max_value=10_000_000_000)
ratios = st.tuples(st.integers(0, 10), st.integers(0, 10)).filter(lambda r: sum(r) > 0)


@given(
    amounts,
    st.dictionaries(
        st.text(min_size=1, max_size=4), st.integers(0, 10**6), min_size=1, max_size=30
    ).filter(lambda d: sum(d.values()) > 0),
)
def test_largest_remainder_sums_exactly_and_stays_within_a_yen(total, weights) -> None:
    shares = rules.largest_remainder(total, weights)
    assert sum(shares.values()) == total
    exact = rules.quotas(total, weights)
    for k in weights:
        assert exact[k] - 1 < shares[k] < exact[k] + 1


@given(amounts, populations, ratios)
def test_equal_population_sums_exactly_and_is_monotone_in_population(total, pops, ratio) -> None:
    shares = rules.allocate_equal_population(total, pops, equal=ratio[0], per_capita=ratio[1])
    assert sum(shares.values()) == total
    if not ratio[1]:  # no 人口割: an equal split, the odd yen by key order
        assert max(shares.values()) - min(shares.values()) <= 1
        return
    for a in pops:
        for b in pops:
            if pops[a] > pops[b]:
                assert shares[a] >= shares[b]


@given(amounts, populations, st.integers(1, 500_000), ratios)
def test_a_members_share_falls_as_members_join(total, pops, newcomer, ratio) -> None:
    """The exact share of every member never rises when one more member joins (it falls
    strictly when there is a 均等割); the rounded share never rises once the exact fall is at
    least 1 yen (below that, the largest-remainder yen may move by one)."""
    equal, per_capita = ratio
    before_w = rules.equal_population_weights(pops, equal=equal, per_capita=per_capita)
    grown = {**pops, "new!": newcomer}
    after_w = rules.equal_population_weights(grown, equal=equal, per_capita=per_capita)
    exact_before = rules.quotas(total, before_w)
    exact_after = rules.quotas(total, after_w)
    before = rules.largest_remainder(total, before_w)
    after = rules.largest_remainder(total, after_w)
    for k in pops:
        assert exact_after[k] <= exact_before[k]
        if total and equal:
            assert exact_after[k] < exact_before[k]
        if exact_before[k] - exact_after[k] >= 1:
            assert after[k] <= before[k]


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=5), st.integers(1, 30))
def test_running_cost_per_member_never_rises_with_members(bases, n) -> None:
    pools = [
        rules.ScenarioPool(f"p{i}", rules.EQUAL_POPULATION, base=b, per_member=1000)
        for i, b in enumerate(bases)
    ]
    assert rules.running_cost_per_member(pools, n + 1) <= rules.running_cost_per_member(pools, n)
