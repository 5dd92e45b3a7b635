"""割り勘の計算: how a 協議会's shared running costs are split among its members.

Pure functions, no Django, amounts in whole yen (``int``).

**Rounding rule (最大剰余法).** Every split of a pool goes through :func:`largest_remainder`:
each member first gets the whole-yen part (floor) of its exact share, a rational number; the yen
left over — fewer than the number of members — go one each to the members with the largest
fractional remainders (ties: larger weight first, then the member key in ascending order). The
parts therefore always add up exactly to the pool: no yen is lost or invented, and a member with a
larger weight never pays less than one with a smaller weight.

**均等割：人口割 (default 4：6, the ratio of the seed's 神奈川県町村会 case).** A member's exact
share of a pool ``T`` among ``n`` members of total population ``P`` is
``T × (a/(a+b) × 1/n + b/(a+b) × p/P)``. It is computed as *one* largest-remainder split with the
integer weights ``a·P + b·n·p`` (the share above times ``(a+b)·n·P``), not as two separately
rounded parts, so that the result stays monotone in population.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any


class RuleInputError(ValueError):
    """Bad input to a rule; ``field`` names the input it concerns."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# 業務: the 17 業務 every member of the 神奈川県町村会 case uses jointly (seed document).
BUSINESSES: tuple[tuple[str, str], ...] = (
    ("registry", "住民記録"),
    ("seal_registration", "印鑑登録"),
    ("foreign_residents", "外国人登録"),
    ("elections", "選挙"),
    ("resident_tax", "住民税"),
    ("corporate_resident_tax", "法人住民税"),
    ("property_tax", "固定資産税"),
    ("light_vehicle_tax", "軽自動車税"),
    ("nhi_eligibility", "国保資格"),
    ("nhi_levy", "国保賦課"),
    ("national_pension", "国民年金"),
    ("addressees", "宛名・住登外管理"),
    ("collection", "収納管理"),
    ("arrears", "滞納管理"),
    ("late_elderly_medical", "後期高齢者医療"),
    ("long_term_care", "介護保険"),
    ("juki_net", "住基ネット"),
)
BUSINESS_LABELS: dict[str, str] = dict(BUSINESSES)

EQUAL_POPULATION = "equal_population"
USAGE = "usage"
UNIT_PRICE = "unit_price"
JOIN = "join"
RULE_LABELS = {
    EQUAL_POPULATION: "均等割・人口割",
    USAGE: "業務別従量（利用実績割）",
    UNIT_PRICE: "業務別従量（月額単価×利用業務）",
    JOIN: "参加時一時費用",
}
BUSINESS_MONTHS = "business_months"
TRANSACTIONS = "transactions"
BASIS_LABELS = {BUSINESS_MONTHS: "利用業務数（業務・月）", TRANSACTIONS: "処理件数"}

DEFAULT_EQUAL_RATIO = 4
DEFAULT_POPULATION_RATIO = 6


# --- the split ----------------------------------------------------------------------------------


def _check_weights(total: int, weights: Mapping[str, int], what: str) -> int:
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise RuleInputError("金額は0以上の整数（円）で指定してください", field="amount")
    for key, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, int) or w < 0:
            raise RuleInputError(f"{key} の{what}は0以上の整数で指定してください", field=what)
    weight_sum = sum(weights.values())
    if weight_sum == 0 and total:
        raise RuleInputError(f"{what}の合計が0のため按分できません", field=what)
    return weight_sum


def quotas(total: int, weights: Mapping[str, int]) -> dict[str, Fraction]:
    """Each key's exact (rational) share of ``total`` in proportion to ``weights``."""
    weight_sum = _check_weights(total, weights, "按分の基準")
    if weight_sum == 0:
        return {k: Fraction(0) for k in weights}
    return {k: Fraction(total * w, weight_sum) for k, w in weights.items()}


def largest_remainder(
    total: int, weights: Mapping[str, int], *, what: str = "按分の基準"
) -> dict[str, int]:
    """Split ``total`` yen in proportion to ``weights`` by the largest-remainder method.

    The result has the same keys and sums to exactly ``total``.
    """
    weight_sum = _check_weights(total, weights, what)
    if not weights:
        return {}
    if weight_sum == 0:  # total is 0 here
        return {k: 0 for k in weights}
    shares = {k: total * w // weight_sum for k, w in weights.items()}
    remainders = {k: total * w % weight_sum for k, w in weights.items()}
    left = total - sum(shares.values())
    for key in sorted(weights, key=lambda k: (-remainders[k], -weights[k], k))[:left]:
        shares[key] += 1
    return shares


def equal_population_weights(
    populations: Mapping[str, int], *, equal: int, per_capita: int
) -> dict[str, int]:
    """The integer weights ``a·P + b·n·p`` of the 均等割：人口割 = a：b split."""
    for name, value in (("均等割", equal), ("人口割", per_capita)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RuleInputError(f"{name}の比率は0以上の整数で指定してください", field="ratio")
    if equal + per_capita == 0:
        raise RuleInputError("均等割と人口割の比率がどちらも0です", field="ratio")
    for key, p in populations.items():
        if isinstance(p, bool) or not isinstance(p, int) or p < 0:
            raise RuleInputError(f"{key} の人口は0以上の整数で指定してください", field="population")
    n = len(populations)
    total_population = sum(populations.values())
    if per_capita and total_population == 0 and n:
        raise RuleInputError("構成団体の人口の合計が0のため人口割ができません", field="population")
    return (
        {key: equal * total_population + per_capita * n * p for key, p in populations.items()}
        if total_population
        else {key: 1 for key in populations}
    )


def allocate_equal_population(
    total: int,
    populations: Mapping[str, int],
    *,
    equal: int = DEFAULT_EQUAL_RATIO,
    per_capita: int = DEFAULT_POPULATION_RATIO,
) -> dict[str, int]:
    """均等割：人口割 = ``equal``：``per_capita`` of ``total`` yen among the members."""
    weights = equal_population_weights(populations, equal=equal, per_capita=per_capita)
    return largest_remainder(total, weights, what="人口")


def charge_unit_prices(
    prices: Mapping[str, int], used: Mapping[str, Sequence[str]]
) -> dict[str, int]:
    """業務別従量料金: each member pays the 月額単価 of every 業務 it uses in the month."""
    for business, price in prices.items():
        if isinstance(price, bool) or not isinstance(price, int) or price < 0:
            raise RuleInputError(
                f"{BUSINESS_LABELS.get(business, business)} の月額単価は0以上の整数（円）で"
                "指定してください",
                field="unit_prices",
            )
    return {key: sum(prices.get(b, 0) for b in businesses) for key, businesses in used.items()}


def split_over_months(amount: int, months: int = 12) -> list[int]:
    """An annual amount as ``months`` monthly amounts summing exactly to it (the leftover yen
    fall in the first months of the 年度: April, May, …)."""
    parts = largest_remainder(amount, {f"{i:02d}": 1 for i in range(months)})
    return [parts[f"{i:02d}"] for i in range(months)]


# --- months and membership ----------------------------------------------------------------------


def month_start(value: date) -> date:
    return value.replace(day=1)


def month_end(value: date) -> date:
    nxt = (value.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


def fiscal_year_of(month: date) -> int:
    """年度 of a month (April to March)."""
    return month.year if month.month >= 4 else month.year - 1


def fiscal_month_index(month: date) -> int:
    """April → 0 … March → 11."""
    return (month.month - 4) % 12


def is_member_in_month(joined_on: date, left_on: date | None, month: date) -> bool:
    """A member is billed for every month it belongs to the 協議会 on at least one day
    (the seed's 使用月数: whole months)."""
    return joined_on <= month_end(month) and (left_on is None or left_on >= month_start(month))


# --- one month of a 協議会 ------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolInput:
    """A cost pool as the month's allocation sees it (``amount`` already the month's amount)."""

    key: str
    name: str
    rule: str
    amount: int = 0
    equal_ratio: int = DEFAULT_EQUAL_RATIO
    population_ratio: int = DEFAULT_POPULATION_RATIO
    basis: str = BUSINESS_MONTHS
    business: str = ""
    unit_prices: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberInput:
    key: str  # 団体コード
    population: int
    businesses: tuple[str, ...] = ()
    transactions: Mapping[str, int] = field(default_factory=dict)
    joining: bool = False  # joins the 協議会 this month


@dataclass(frozen=True)
class Line:
    pool: str
    member: str
    amount: int
    basis: str


def _usage_weights(pool: PoolInput, members: Sequence[MemberInput]) -> dict[str, int]:
    weights: dict[str, int] = {}
    for m in members:
        if pool.basis == TRANSACTIONS:
            if pool.business:
                weights[m.key] = int(m.transactions.get(pool.business, 0))
            else:
                weights[m.key] = sum(int(v) for v in m.transactions.values())
        elif pool.business:
            weights[m.key] = 1 if pool.business in m.businesses else 0
        else:
            weights[m.key] = len(m.businesses)
    return weights


def allocate_pool(pool: PoolInput, members: Sequence[MemberInput]) -> list[Line]:
    """One pool's lines for one month (members with nothing to pay are left out for the
    one-off and unit-price rules; every member gets a line for the proportional rules)."""
    if not members:
        return []
    if pool.rule == EQUAL_POPULATION:
        populations = {m.key: m.population for m in members}
        shares = allocate_equal_population(
            pool.amount, populations, equal=pool.equal_ratio, per_capita=pool.population_ratio
        )
        total_population = sum(populations.values())
        return [
            Line(
                pool.key,
                m.key,
                shares[m.key],
                f"均等割{pool.equal_ratio}：人口割{pool.population_ratio}"
                f"（人口 {m.population:,}人／計 {total_population:,}人、{len(members)}団体）",
            )
            for m in members
        ]
    if pool.rule == USAGE:
        weights = _usage_weights(pool, members)
        what = BASIS_LABELS.get(pool.basis, pool.basis)
        try:
            shares = largest_remainder(pool.amount, weights, what=what)
        except RuleInputError as exc:
            raise RuleInputError(f"{pool.name}: {exc.message}", field=exc.field) from None
        total_weight = sum(weights.values())
        unit = "件" if pool.basis == TRANSACTIONS else "業務"
        return [
            Line(
                pool.key,
                m.key,
                shares[m.key],
                f"{what} {weights[m.key]:,}{unit}／計 {total_weight:,}{unit}",
            )
            for m in members
        ]
    if pool.rule == UNIT_PRICE:
        charges = charge_unit_prices(pool.unit_prices, {m.key: m.businesses for m in members})
        lines = []
        for m in members:
            used = [b for b in m.businesses if pool.unit_prices.get(b, 0)]
            if charges[m.key]:
                lines.append(
                    Line(pool.key, m.key, charges[m.key], f"月額単価 × 利用業務 {len(used)}業務")
                )
        return lines
    if pool.rule == JOIN:
        joining = [m for m in members if m.joining]
        if not joining:
            return []
        return [
            Line(pool.key, m.key, pool.amount, "参加月の一時費用（1団体あたり）") for m in joining
        ]
    raise RuleInputError(f"按分方法 {pool.rule} は使えません", field="rule")


def allocate_month(pools: Sequence[PoolInput], members: Sequence[MemberInput]) -> list[Line]:
    lines: list[Line] = []
    for pool in pools:
        lines.extend(allocate_pool(pool, members))
    return lines


# --- 10-year lifecycle simulation ---------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioPool:
    """A pool of the simulation: annual cost ``base + per_member × members`` (a shared cost
    that grows somewhat with the number of members), or a one-off ``join_cost`` per joining
    member (移行費)."""

    name: str
    rule: str
    base: int = 0
    per_member: int = 0
    join_cost: int = 0
    equal_ratio: int = DEFAULT_EQUAL_RATIO
    population_ratio: int = DEFAULT_POPULATION_RATIO
    alone: bool = True  # also a cost of a municipality running alone (False: 組織運営費)

    def annual_total(self, members: int) -> int:
        return self.base + self.per_member * members if members else 0


@dataclass(frozen=True)
class ScenarioMember:
    name: str
    population: int
    joins: int  # first 年度 as a member
    leaves: int | None = None  # first 年度 no longer a member
    businesses: int = len(BUSINESSES)

    def member_in(self, year: int) -> bool:
        return self.joins <= year and (self.leaves is None or year < self.leaves)


@dataclass(frozen=True)
class Scenario:
    start_year: int
    years: int
    pools: tuple[ScenarioPool, ...]
    members: tuple[ScenarioMember, ...]


@dataclass(frozen=True)
class YearResult:
    year: int
    members: tuple[str, ...]
    costs: dict[str, int]  # member → the year's total share
    by_pool: dict[str, dict[str, int]]  # pool → member → share
    total: int

    @property
    def average(self) -> int:
        return self.total // len(self.members) if self.members else 0


@dataclass(frozen=True)
class SimulationResult:
    scenario: Scenario
    years: tuple[YearResult, ...]
    standalone: int  # the running cost of one municipality alone (1 member), per year
    curve: tuple[tuple[int, int], ...]  # (members, running cost per municipality per year)

    def member_totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for y in self.years:
            for name, cost in y.costs.items():
                totals[name] = totals.get(name, 0) + cost
        return totals


def _int_field(raw: Mapping[str, Any], name: str, where: str, *, default: int | None = None) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RuleInputError(
            f"{where}.{name}: 0以上の整数で指定してください", field=f"{where}.{name}"
        )
    return value


def _bool_field(raw: Mapping[str, Any], name: str, where: str) -> bool:
    value = raw.get(name, True)
    if not isinstance(value, bool):
        raise RuleInputError(
            f"{where}.{name}: true か false で指定してください", field=f"{where}.{name}"
        )
    return value


def parse_scenario(raw: Mapping[str, Any]) -> Scenario:
    """A scenario from parsed TOML/JSON; every error names the field (``members[2].joins``)."""
    start = _int_field(raw, "start_year", "scenario")
    years = _int_field(raw, "years", "scenario", default=10)
    if not 1900 <= start <= 2200:
        raise RuleInputError(
            "scenario.start_year: 西暦の年度で指定してください", field="start_year"
        )
    if not 1 <= years <= 50:
        raise RuleInputError("scenario.years: 1〜50年で指定してください", field="years")
    pools: list[ScenarioPool] = []
    raw_pools = raw.get("pools") or []
    if not isinstance(raw_pools, list) or not raw_pools:
        raise RuleInputError("pools: 費用プールを1つ以上指定してください", field="pools")
    for i, p in enumerate(raw_pools):
        where = f"pools[{i}]"
        if not isinstance(p, Mapping) or not str(p.get("name", "")).strip():
            raise RuleInputError(f"{where}.name: 名称を指定してください", field=f"{where}.name")
        rule = p.get("rule", EQUAL_POPULATION)
        if rule not in (EQUAL_POPULATION, USAGE, JOIN):
            raise RuleInputError(
                f"{where}.rule: equal_population・usage・join のいずれかを指定してください",
                field=f"{where}.rule",
            )
        pool = ScenarioPool(
            name=str(p["name"]).strip(),
            rule=rule,
            base=_int_field(p, "base", where, default=0),
            per_member=_int_field(p, "per_member", where, default=0),
            join_cost=_int_field(p, "join_cost", where, default=0),
            equal_ratio=_int_field(p, "equal", where, default=DEFAULT_EQUAL_RATIO),
            population_ratio=_int_field(p, "population", where, default=DEFAULT_POPULATION_RATIO),
            alone=_bool_field(p, "alone", where),
        )
        if pool.equal_ratio + pool.population_ratio == 0:
            raise RuleInputError(f"{where}: 均等割と人口割の比率がどちらも0です", field=where)
        pools.append(pool)
    members: list[ScenarioMember] = []
    raw_members = raw.get("members") or []
    if not isinstance(raw_members, list) or not raw_members:
        raise RuleInputError("members: 構成団体を1つ以上指定してください", field="members")
    names: set[str] = set()
    for i, m in enumerate(raw_members):
        where = f"members[{i}]"
        if not isinstance(m, Mapping) or not str(m.get("name", "")).strip():
            raise RuleInputError(f"{where}.name: 団体名を指定してください", field=f"{where}.name")
        name = str(m["name"]).strip()
        if name in names:
            raise RuleInputError(f"{where}.name: {name} が重複しています", field=f"{where}.name")
        names.add(name)
        joins = _int_field(m, "joins", where, default=start)
        leaves = m.get("leaves")
        if leaves is not None:
            leaves = _int_field(m, "leaves", where)
            if leaves <= joins:
                raise RuleInputError(
                    f"{where}.leaves: 脱退年度は参加年度より後にしてください",
                    field=f"{where}.leaves",
                )
        members.append(
            ScenarioMember(
                name=name,
                population=_int_field(m, "population", where),
                joins=joins,
                leaves=leaves,
                businesses=_int_field(m, "businesses", where, default=len(BUSINESSES)),
            )
        )
    return Scenario(start, years, tuple(pools), tuple(members))


def running_cost_per_member(pools: Sequence[ScenarioPool], members: int) -> Fraction:
    """割り勘効果: the average yearly running cost of one municipality among ``members``
    (one-off 移行費 excluded; with 1 member, only the pools that exist for a municipality
    running alone — a 協議会's 組織運営費 does not)."""
    if members <= 0:
        raise RuleInputError("構成団体数は1以上で指定してください", field="members")
    return Fraction(
        sum(p.annual_total(members) for p in pools if p.rule != JOIN and (p.alone or members > 1)),
        members,
    )


def simulate(scenario: Scenario) -> SimulationResult:
    """Each 年度: who is a member, each pool's yearly amount and every member's share by the
    pool's rule (one-off 移行費 in the year a member joins). Usage pools split by the number
    of 業務 a member uses."""
    years: list[YearResult] = []
    for year in range(scenario.start_year, scenario.start_year + scenario.years):
        active = [m for m in scenario.members if m.member_in(year)]
        names = tuple(m.name for m in active)
        costs = {name: 0 for name in names}
        by_pool: dict[str, dict[str, int]] = {}
        for pool in scenario.pools:
            if not active:
                by_pool[pool.name] = {}
                continue
            if pool.rule == EQUAL_POPULATION:
                shares = allocate_equal_population(
                    pool.annual_total(len(active)),
                    {m.name: m.population for m in active},
                    equal=pool.equal_ratio,
                    per_capita=pool.population_ratio,
                )
            elif pool.rule == USAGE:
                shares = largest_remainder(
                    pool.annual_total(len(active)),
                    {m.name: m.businesses for m in active},
                    what="利用業務数",
                )
            else:
                shares = {m.name: pool.join_cost for m in active if m.joins == year}
            by_pool[pool.name] = shares
            for name, amount in shares.items():
                costs[name] += amount
        years.append(YearResult(year, names, costs, by_pool, sum(costs.values())))
    most = max((len(y.members) for y in years), default=0)
    most = max(most, len(scenario.members), 1)
    curve = tuple((n, int(running_cost_per_member(scenario.pools, n))) for n in range(1, most + 1))
    standalone = curve[0][1]
    return SimulationResult(scenario, tuple(years), standalone, curve)


def reduction_percent(cost: int, baseline: int) -> Fraction:
    """How much lower ``cost`` is than ``baseline``, in percent (exact)."""
    if baseline <= 0:
        raise RuleInputError("比較の基準額は1円以上で指定してください", field="baseline")
    return Fraction(100 * (baseline - cost), baseline)
