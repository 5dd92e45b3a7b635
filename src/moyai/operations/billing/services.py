"""割り勘の操作: 協議会 membership, cost pools, the monthly allocation and its statements.

Every write is audited. The 協議会's tables are operator-level, and the project keeps no
operator-level audit log: every chain belongs to a municipality. So the audit rows go into the
chain of each municipality the change concerns (the founders of a new 協議会, the member joining
or leaving and every member whose share it changes, every member a pool is charged to, every
member of a month's run): a 団体管理者 sees in its own audit log every act of the operator that
changes what it pays.

Closing a month renders every member's PDF, which takes too long for a request: the screen
asks for it (:func:`allocation_close_request`, audited, the task enqueued with the request's
data) and the worker does it (:func:`allocation_close_resume`, one member per transaction, so a
stopped run continues where it stopped and a second run issues nothing twice).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from moyai.operations.billing import rules
from moyai.operations.billing.models import (
    AllocationRun,
    CostPool,
    Membership,
    PoolCategory,
    PoolPeriod,
    PoolRule,
    RunStatus,
    Statement,
    UsageBasis,
    UsageMetric,
    UsageRecord,
)
from moyai.platform.audit import audit_record, current_actor
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction, Council, Municipality
from moyai.platform.outbox import emit
from moyai.platform.tenancy import tenant_context

PURPOSE_COUNT = "割り勘（人口割・業務別従量）の集計"
FROZEN = (RunStatus.CLOSING, RunStatus.CLOSED)

logger = logging.getLogger(__name__)


def _rule_error(exc: rules.RuleInputError) -> ServiceError:
    return ServiceError(exc.message, field=exc.field)


def _audit_in(
    municipality: Municipality,
    *,
    action: AuditAction,
    target_type: str,
    target_id: str | int,
    purpose: str,
    detail: Mapping[str, Any],
) -> None:
    with tenant_context(municipality):
        audit_record(
            action=action,
            target_type=target_type,
            target_id=target_id,
            purpose=purpose,
            detail=detail,
        )


def _closed_from(council: Council, month: date) -> AllocationRun | None:
    """The first closed (or closing) run of ``council`` in or after ``month``: closed months are
    final, and a month whose close was requested is frozen until the statements are issued."""
    run: AllocationRun | None = (
        AllocationRun.objects.filter(
            council=council, status__in=FROZEN, month__gte=rules.month_start(month)
        )
        .order_by("month")
        .first()
    )
    return run


def _frozen(run: AllocationRun) -> str:
    """How a frozen month is named in a refusal: 確定済み or 確定の処理中."""
    return "確定の処理中" if run.status == RunStatus.CLOSING else "確定済み"


def _next_month(day: date) -> date:
    return rules.month_end(day) + timedelta(days=1)


def month_label(month: date) -> str:
    """令和8年11月 (the 和暦 of a billing month)."""
    from moyai.registry.rules import wareki

    return wareki(month).rsplit("月", 1)[0] + "月"


def members_in_month(council: Council, month: date) -> list[Membership]:
    """The memberships billed for ``month`` (member on at least one day of it)."""
    start, end = rules.month_start(month), rules.month_end(month)
    return list(
        Membership.objects.select_related("municipality")
        .filter(council=council, joined_on__lte=end)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=start))
        .order_by("municipality__code")
    )


# --- 協議会 --------------------------------------------------------------------------------------


def _check_businesses(businesses: Iterable[str]) -> list[str]:
    result = []
    for b in businesses:
        if b not in rules.BUSINESS_LABELS:
            raise ServiceError(f"利用業務 {b} はありません", field="businesses")
        if b not in result:
            result.append(b)
    return result


@transaction.atomic
def consortium_create(
    *,
    name: str,
    founders: Sequence[Municipality] = (),
    joined_on: date | None = None,
    businesses: Sequence[str] | None = None,
) -> Council:
    """協議会の登録 (billing side): a new 協議会, with its 設立団体 (``founders``) as members
    from ``joined_on`` using ``businesses`` (every 業務 when not given).

    The creation is recorded in each founder's audit log (with the names of all founders), then
    each founder's membership as a join. A 協議会 registered without founders concerns no
    municipality yet: nothing goes into any audit log until its first member joins (that join
    is recorded, as every join is). A refused registration writes nothing."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ServiceError("協議会名を100文字以内で入力してください", field="name")
    if Council.objects.filter(name=name).exists():
        raise ServiceError(f"協議会「{name}」は登録済みです", field="name")
    unique = list({m.pk: m for m in founders}.values())
    chosen = _check_businesses(
        businesses if businesses is not None else [code for code, _ in rules.BUSINESSES]
    )
    if unique and joined_on is None:
        raise ServiceError("設立団体の参加日を入力してください", field="joined_on")
    council = Council.objects.create(name=name)
    if not unique or joined_on is None:
        return council
    codes = sorted(m.code for m in unique)
    for municipality in sorted(unique, key=lambda m: m.code):
        _audit_in(
            municipality,
            action=AuditAction.CREATE,
            target_type="billing_council",
            target_id=council.pk,
            purpose=f"{council.name}の登録（設立団体）",
            detail={"council": council.name, "founders": codes, "joined_on": joined_on.isoformat()},
        )
    for municipality in sorted(unique, key=lambda m: m.code):
        _membership_add(
            council=council,
            municipality=municipality,
            joined_on=joined_on,
            businesses=chosen,
            tell_members=False,  # the founders' records above name every founder
        )
    return council


def _members_concerned(
    council: Council, *, billed_from: date, besides: Membership
) -> list[Municipality]:
    """The other members of ``council`` billed in a month from ``billed_from`` on: a member's
    joining or leaving changes their shares (均等割 over the number of members, the totals of
    人口 and 利用実績)."""
    others = (
        Membership.objects.select_related("municipality")
        .filter(council=council)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=rules.month_start(billed_from)))
        .exclude(municipality=besides.municipality)
        .order_by("municipality__code")
    )
    return list({ms.municipality.pk: ms.municipality for ms in others}.values())


@transaction.atomic
def membership_add(
    *,
    council: Council,
    municipality: Municipality,
    joined_on: date,
    businesses: Sequence[str] = (),
) -> Membership:
    """構成団体の参加: ``municipality`` joins ``council`` on ``joined_on`` using ``businesses``.

    Recorded in the joining member's audit log and in the log of every other member whose
    share it changes."""
    return _membership_add(
        council=council, municipality=municipality, joined_on=joined_on, businesses=businesses
    )


def _membership_add(
    *,
    council: Council,
    municipality: Municipality,
    joined_on: date,
    businesses: Sequence[str],
    tell_members: bool = True,
) -> Membership:
    chosen = _check_businesses(businesses)
    overlapping = Membership.objects.filter(council=council, municipality=municipality).filter(
        Q(left_on__isnull=True) | Q(left_on__gte=joined_on)
    )
    if overlapping.exists():
        raise ServiceError(
            f"{municipality.name}はすでに{council.name}の構成団体です（参加期間が重なります）",
            field="municipality",
        )
    closed = _closed_from(council, joined_on)
    if closed is not None:
        raise ServiceError(
            f"{month_label(closed.month)}分は{_frozen(closed)}のため、それより前の日付で参加させる"
            "ことはできません",
            field="joined_on",
        )
    membership = Membership.objects.create(
        council=council, municipality=municipality, joined_on=joined_on, businesses=chosen
    )
    _audit_in(
        municipality,
        action=AuditAction.CREATE,
        target_type="billing_membership",
        target_id=membership.pk,
        purpose=f"{council.name}への参加",
        detail={"council": council.name, "joined_on": joined_on.isoformat(), "businesses": chosen},
    )
    if tell_members:
        for other in _members_concerned(council, billed_from=joined_on, besides=membership):
            _audit_in(
                other,
                action=AuditAction.UPDATE,
                target_type="billing_council",
                target_id=council.pk,
                purpose=f"{council.name}の構成団体の変更（{municipality.name}の参加）",
                detail={
                    "council": council.name,
                    "joined": municipality.code,
                    "joined_on": joined_on.isoformat(),
                    "membership": membership.pk,
                },
            )
    with tenant_context(municipality):
        emit(
            type="billing.membership.joined",
            subject_type="billing_membership",
            subject_id=membership.pk,
            payload={"council": council.name, "joined_on": joined_on.isoformat()},
        )
    return membership


@transaction.atomic
def membership_end(*, membership: Membership, left_on: date) -> Membership:
    """構成団体の脱退: ``left_on`` is the last day of membership (billed through its month).

    Recorded in the leaving member's audit log and in the log of every other member whose
    share it changes (members billed after the month of ``left_on``)."""
    membership = (
        Membership.objects.select_for_update()
        .select_related("council", "municipality")
        .get(pk=membership.pk)
    )
    if membership.left_on is not None:
        raise ServiceError("この構成団体はすでに脱退しています", field="left_on")
    if left_on < membership.joined_on:
        raise ServiceError("脱退日は参加日以後の日付にしてください", field="left_on")
    closed = _closed_from(membership.council, _next_month(left_on))
    if closed is not None:
        raise ServiceError(
            f"{month_label(closed.month)}分は{_frozen(closed)}のため、それより前に脱退させることは"
            "できません",
            field="left_on",
        )
    membership.left_on = left_on
    membership.save(update_fields=["left_on"])
    council, municipality = membership.council, membership.municipality
    _audit_in(
        municipality,
        action=AuditAction.UPDATE,
        target_type="billing_membership",
        target_id=membership.pk,
        purpose=f"{council.name}からの脱退",
        detail={"left_on": left_on.isoformat()},
    )
    for other in _members_concerned(council, billed_from=_next_month(left_on), besides=membership):
        _audit_in(
            other,
            action=AuditAction.UPDATE,
            target_type="billing_council",
            target_id=council.pk,
            purpose=f"{council.name}の構成団体の変更（{municipality.name}の脱退）",
            detail={
                "council": council.name,
                "left": municipality.code,
                "left_on": left_on.isoformat(),
                "membership": membership.pk,
            },
        )
    with tenant_context(municipality):
        emit(
            type="billing.membership.left",
            subject_type="billing_membership",
            subject_id=membership.pk,
            payload={"council": council.name, "left_on": left_on.isoformat()},
        )
    return membership


# --- 費用プール ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolData:
    """What a 費用プール is made of (from the form, the CLI or the demo)."""

    name: str
    category: str
    rule: str
    valid_from: date
    amount: int = 0
    period: str = PoolPeriod.MONTHLY
    equal_ratio: int = rules.DEFAULT_EQUAL_RATIO
    population_ratio: int = rules.DEFAULT_POPULATION_RATIO
    basis: str = UsageBasis.BUSINESS_MONTHS
    business: str = ""
    unit_prices: Mapping[str, int] | None = None
    valid_to: date | None = None


def _check_pool(data: PoolData) -> None:
    if not data.name.strip() or len(data.name.strip()) > 100:
        raise ServiceError("名称を100文字以内で入力してください", field="name")
    if data.category not in PoolCategory.values:
        raise ServiceError("費目を選んでください", field="category")
    if data.rule not in PoolRule.values:
        raise ServiceError("按分方法を選んでください", field="rule")
    if data.period not in PoolPeriod.values:
        raise ServiceError("金額の単位（月額・年額）を選んでください", field="period")
    if isinstance(data.amount, bool) or not isinstance(data.amount, int) or data.amount < 0:
        raise ServiceError("金額は0以上の整数（円）で入力してください", field="amount")
    if data.rule in (PoolRule.EQUAL_POPULATION, PoolRule.USAGE, PoolRule.JOIN) and not data.amount:
        raise ServiceError("金額（円）を入力してください", field="amount")
    if data.rule == PoolRule.EQUAL_POPULATION:
        for name, v in (
            ("equal_ratio", data.equal_ratio),
            ("population_ratio", data.population_ratio),
        ):
            if not 0 <= v <= 100:
                raise ServiceError("比率は0〜100の整数で入力してください", field=name)
        if data.equal_ratio + data.population_ratio == 0:
            raise ServiceError("均等割と人口割の比率がどちらも0です", field="equal_ratio")
    if data.basis not in UsageBasis.values:
        raise ServiceError("従量の基準を選んでください", field="basis")
    if data.business and data.business not in rules.BUSINESS_LABELS:
        raise ServiceError(f"対象業務 {data.business} はありません", field="business")
    if data.rule == PoolRule.UNIT_PRICE:
        prices = dict(data.unit_prices or {})
        if not prices:
            raise ServiceError("業務別の月額単価を1つ以上入力してください", field="unit_prices")
        for b, price in prices.items():
            if b not in rules.BUSINESS_LABELS:
                raise ServiceError(f"業務 {b} はありません", field="unit_prices")
            if isinstance(price, bool) or not isinstance(price, int) or price < 0:
                raise ServiceError(
                    f"{rules.BUSINESS_LABELS[b]}の月額単価は0以上の整数（円）で入力してください",
                    field="unit_prices",
                )
    if data.valid_to is not None and data.valid_to < data.valid_from:
        raise ServiceError("適用終了月は適用開始月以後にしてください", field="valid_to")


@transaction.atomic
def pool_create(*, council: Council, data: PoolData) -> CostPool:
    """費用プールの登録: a shared cost of ``council`` from ``data.valid_from``'s month on."""
    _check_pool(data)
    name = data.name.strip()
    if CostPool.objects.filter(council=council, name=name).exists():
        raise ServiceError(f"費用プール「{name}」は登録済みです", field="name")
    valid_from = rules.month_start(data.valid_from)
    closed = _closed_from(council, valid_from)
    if closed is not None:
        raise ServiceError(
            f"{month_label(closed.month)}分は{_frozen(closed)}です。適用開始月はその翌月以降に"
            "してください",
            field="valid_from",
        )
    pool = CostPool.objects.create(
        council=council,
        name=name,
        category=data.category,
        rule=data.rule,
        period=data.period,
        amount=data.amount,
        equal_ratio=data.equal_ratio,
        population_ratio=data.population_ratio,
        basis=data.basis,
        business=data.business,
        unit_prices=dict(data.unit_prices or {}),
        valid_from=valid_from,
        valid_to=rules.month_start(data.valid_to) if data.valid_to else None,
    )
    affected = Membership.objects.select_related("municipality").filter(
        Q(left_on__isnull=True) | Q(left_on__gte=valid_from), council=council
    )
    for m in {ms.municipality.pk: ms.municipality for ms in affected}.values():
        _audit_in(
            m,
            action=AuditAction.CREATE,
            target_type="billing_pool",
            target_id=pool.pk,
            purpose=f"{council.name}の費用プール登録",
            detail={
                "name": pool.name,
                "rule": pool.rule,
                "amount": pool.amount,
                "period": pool.period,
                "valid_from": valid_from.isoformat(),
            },
        )
    return pool


@transaction.atomic
def pool_end(*, pool: CostPool, last_month: date) -> CostPool:
    """費用プールの終了: charged up to and including ``last_month``."""
    pool = CostPool.objects.select_for_update().select_related("council").get(pk=pool.pk)
    last = rules.month_start(last_month)
    if last < pool.valid_from:
        raise ServiceError("適用終了月は適用開始月以後にしてください", field="valid_to")
    closed = _closed_from(pool.council, _next_month(last))
    if closed is not None:
        raise ServiceError(
            f"{month_label(closed.month)}分は{_frozen(closed)}のため、それより前に終了できません",
            field="valid_to",
        )
    pool.valid_to = last
    pool.save(update_fields=["valid_to"])
    for ms in members_in_month(pool.council, last):
        _audit_in(
            ms.municipality,
            action=AuditAction.UPDATE,
            target_type="billing_pool",
            target_id=pool.pk,
            purpose=f"{pool.council.name}の費用プール終了",
            detail={"name": pool.name, "valid_to": last.isoformat()},
        )
    return pool


def pool_amount_for_month(pool: CostPool, month: date) -> int:
    """The pool's amount charged in ``month`` (an annual amount split over the 年度's 12 months
    by the largest-remainder rule, so the 12 months add up to it exactly)."""
    if pool.period == PoolPeriod.ANNUAL and pool.rule != PoolRule.JOIN:
        return rules.split_over_months(pool.amount)[rules.fiscal_month_index(month)]
    return pool.amount


def pools_in_month(council: Council, month: date) -> list[CostPool]:
    start = rules.month_start(month)
    return list(
        CostPool.objects.filter(council=council, valid_from__lte=start)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
        .order_by("category", "name")
    )


# --- 利用実績 (aggregates from the registry) -----------------------------------------------------


def usage_collect(*, municipality: Municipality, month: date) -> dict[str, int]:
    """人口 (first day of the month) and 住民記録 異動 processed in the month, counted inside the
    municipality's tenant and stored as aggregates; the count is recorded in its audit log."""
    from moyai.registry.selectors import movement_count, population_count_as_of

    start = rules.month_start(month)
    tz = timezone.get_current_timezone()
    begin = datetime.combine(start, time.min, tzinfo=tz)
    finish = datetime.combine(_next_month(start), time.min, tzinfo=tz)
    with tenant_context(municipality):
        population = population_count_as_of(on=start)
        movements = movement_count(start=begin, end=finish)
        audit_record(
            action=AuditAction.READ,
            target_type="registry_count",
            target_id=start.isoformat()[:7],
            purpose=PURPOSE_COUNT,
            detail={"population": population, "movements": movements},
        )
    now = timezone.now()
    for metric, business, quantity, source in (
        (UsageMetric.POPULATION, "", population, f"住民記録（{start.isoformat()} 現在の住民数）"),
        (UsageMetric.TRANSACTIONS, "registry", movements, "住民記録（月内に処理した異動の件数）"),
    ):
        UsageRecord.objects.update_or_create(
            municipality=municipality,
            month=start,
            metric=metric,
            business=business,
            defaults={"quantity": quantity, "source": source, "collected_at": now},
        )
    return {"population": population, "registry": movements}


# --- 月次の按分 ---------------------------------------------------------------------------------


def _pool_input(pool: CostPool, month: date) -> rules.PoolInput:
    return rules.PoolInput(
        key=str(pool.pk),
        name=pool.name,
        rule=pool.rule,
        amount=pool_amount_for_month(pool, month),
        equal_ratio=pool.equal_ratio,
        population_ratio=pool.population_ratio,
        basis=pool.basis,
        business=pool.business,
        unit_prices={str(k): int(v) for k, v in pool.unit_prices.items()},
    )


@transaction.atomic
def allocation_run(*, council: Council, month: date) -> AllocationRun:
    """月次の按分を計算: collect the month's usage, split every pool among the members and
    write each member's statement. A draft month is recomputed in place; a closed month is
    refused (nothing is written)."""
    month = rules.month_start(month)
    council = Council.objects.select_for_update().get(pk=council.pk)
    run = AllocationRun.objects.filter(council=council, month=month).first()
    if run is not None and run.status in FROZEN:
        raise ServiceError(
            f"{month_label(month)}分は{_frozen(run)}のため再計算できません", field="month"
        )
    memberships = members_in_month(council, month)
    if not memberships:
        raise ServiceError(
            f"{month_label(month)}に{council.name}の構成団体がありません", field="month"
        )
    pools = pools_in_month(council, month)
    if not pools:
        raise ServiceError(f"{month_label(month)}に適用される費用プールがありません", field="month")
    members: list[rules.MemberInput] = []
    for ms in memberships:
        counts = usage_collect(municipality=ms.municipality, month=month)
        members.append(
            rules.MemberInput(
                key=ms.municipality.code,
                population=counts["population"],
                businesses=tuple(ms.businesses),
                transactions={"registry": counts["registry"]},
                joining=rules.month_start(ms.joined_on) == month,
            )
        )
    pool_inputs = [_pool_input(p, month) for p in pools]
    try:
        lines = rules.allocate_month(pool_inputs, members)
    except rules.RuleInputError as exc:
        raise _rule_error(exc) from None
    by_code = {ms.municipality.code: ms.municipality for ms in memberships}
    pool_by_key = {str(p.pk): p for p in pools}
    stored_lines: list[dict[str, Any]] = [
        {
            "pool_id": pool_by_key[line.pool].pk,
            "pool": pool_by_key[line.pool].name,
            "category": pool_by_key[line.pool].get_category_display(),
            "rule": pool_by_key[line.pool].get_rule_display(),
            "code": line.member,
            "municipality": by_code[line.member].name,
            "amount": line.amount,
            "basis": line.basis,
        }
        for line in lines
    ]
    inputs = {
        "members": [
            {
                "code": m.key,
                "name": by_code[m.key].name,
                "population": m.population,
                "businesses": list(m.businesses),
                "transactions": dict(m.transactions),
                "joining": m.joining,
            }
            for m in members
        ],
        "pools": [
            {"id": int(p.key), "name": p.name, "rule": p.rule, "amount": p.amount}
            for p in pool_inputs
        ],
    }
    previous_codes = {m["code"] for m in (run.inputs.get("members", []) if run else [])}
    now = timezone.now()
    actor = current_actor().username
    created = run is None
    if run is None:
        run = AllocationRun(council=council, month=month)
    run.status = RunStatus.DRAFT
    run.total = sum(line.amount for line in lines)
    run.lines = stored_lines
    run.inputs = inputs
    run.computed_at = now
    run.computed_by = actor
    run.save()
    for code, municipality in by_code.items():
        mine = [line for line in stored_lines if line["code"] == code]
        total = sum(int(line["amount"]) for line in mine)
        with tenant_context(municipality):
            Statement.objects.update_or_create(
                run=run,
                defaults={
                    "council_name": council.name,
                    "month": month,
                    "status": RunStatus.DRAFT,
                    "total": total,
                    "lines": mine,
                    "updated_at": now,
                },
            )
        _audit_in(
            municipality,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            target_type="billing_statement",
            target_id=run.pk,
            purpose=f"{council.name} {month_label(month)}分の按分（仮計算）",
            detail={"total": total, "run_total": run.total},
        )
    for code in previous_codes - set(by_code):
        former = Municipality.objects.get(code=code)
        with tenant_context(former):
            Statement.objects.filter(run=run).delete()
        _audit_in(
            former,
            action=AuditAction.DELETE,
            target_type="billing_statement",
            target_id=run.pk,
            purpose=f"{council.name} {month_label(month)}分の再計算（対象外になったため削除）",
            detail={},
        )
    return run


def _member_municipalities(run: AllocationRun) -> list[Municipality]:
    codes = sorted({m["code"] for m in run.inputs.get("members", [])})
    return list(Municipality.objects.filter(code__in=codes).order_by("code"))


@transaction.atomic
def allocation_close_request(*, run: AllocationRun, enqueue: bool = True) -> AllocationRun:
    """月次の確定の依頼: freeze the draft (nothing joins, leaves or is recomputed before it from
    now on) and enqueue the background task that issues each member's 請求明細書; the task
    commits with the request. Recorded in each member's audit log, as the close itself is.

    Asking again is allowed only after the task stopped (``close_error``): it continues where
    it stopped. A closed month, or one whose close is under way, is refused (nothing written).
    ``enqueue=False`` is for :func:`allocation_close`, which does the work itself."""
    run = AllocationRun.objects.select_for_update().select_related("council").get(pk=run.pk)
    label = month_label(run.month)
    if run.status == RunStatus.CLOSED:
        raise ServiceError(f"{label}分はすでに確定しています", field="month")
    if run.status == RunStatus.CLOSING and not run.close_error:
        raise ServiceError(
            f"{label}分は確定の処理中です（請求明細書を作成しています）", field="month"
        )
    again = run.status == RunStatus.CLOSING
    run.status = RunStatus.CLOSING
    run.close_requested_at = timezone.now()
    run.close_requested_by = current_actor().username
    run.close_error = ""
    run.close_failed_at = None
    run.save(
        update_fields=[
            "status",
            "close_requested_at",
            "close_requested_by",
            "close_error",
            "close_failed_at",
        ]
    )
    for municipality in _member_municipalities(run):
        _audit_in(
            municipality,
            action=AuditAction.UPDATE,
            target_type="billing_statement",
            target_id=run.pk,
            purpose=f"{run.council.name} {label}分の確定の依頼",
            detail={"run": run.pk, "run_total": run.total, "again": again},
        )
    if enqueue:
        from moyai.operations.billing.tasks import close_month

        close_month.enqueue(run.pk)
    return run


def _statement_issue(*, run: AllocationRun, municipality: Municipality) -> bool:
    """Issue one member's 請求明細書 in its own register (one transaction in its tenant); a
    statement issued before (by an earlier run of the task) is left as it is. Returns whether
    it issued one."""
    from moyai.documents.services import document_issue
    from moyai.operations.billing.documents import STATEMENT

    with tenant_context(municipality):
        statement = Statement.objects.select_for_update().get(run=run)
        if statement.document_serial:
            return False
        context = statement_context(statement, municipality=municipality)
        issued = document_issue(
            kind=STATEMENT.code,
            subject_type="billing_statement",
            subject_id=statement.pk,
            template_name="billing/statement_pdf.html",
            context=context,
            purpose=f"{run.council.name} {month_label(run.month)}分 負担金請求明細書の発行",
        )
        statement.status = RunStatus.CLOSED
        statement.document_serial = issued.document.serial
        statement.updated_at = timezone.now()
        statement.save(update_fields=["status", "document_serial", "updated_at"])
        audit_record(
            action=AuditAction.UPDATE,
            target_type="billing_statement",
            target_id=statement.pk,
            purpose=f"{run.council.name} {month_label(run.month)}分の確定",
            detail={"total": statement.total, "serial": issued.document.serial},
        )
        emit(
            type="billing.statement.closed",
            subject_type="billing_statement",
            subject_id=statement.pk,
            payload={
                "council": run.council.name,
                "month": run.month.isoformat()[:7],
                "total": statement.total,
                "serial": issued.document.serial,
            },
        )
        AllocationRun.objects.filter(pk=run.pk).update(close_issued=F("close_issued") + 1)
    return True


def allocation_close_perform(*, run_id: int) -> AllocationRun:
    """月次の確定の処理 (what the worker does): issue each member's 請求明細書 through the
    document engine in the member's own register (numbered, signed, verifiable), one member per
    transaction, then mark the month closed. Idempotent: statements issued by an earlier run
    are not issued again, and a closed month is returned as it is."""
    run = AllocationRun.objects.select_related("council").get(pk=run_id)
    if run.status == RunStatus.CLOSED:
        return run
    if run.status != RunStatus.CLOSING:
        raise ServiceError(f"{month_label(run.month)}分の確定は依頼されていません", field="month")
    for municipality in _member_municipalities(run):
        _statement_issue(run=run, municipality=municipality)
    with transaction.atomic():
        run = AllocationRun.objects.select_for_update().select_related("council").get(pk=run_id)
        if run.status == RunStatus.CLOSING:
            run.status = RunStatus.CLOSED
            run.closed_at = timezone.now()
            run.closed_by = run.close_requested_by or current_actor().username
            run.close_error = ""
            run.close_failed_at = None
            run.save(
                update_fields=["status", "closed_at", "closed_by", "close_error", "close_failed_at"]
            )
    return run


def allocation_close_failed(*, run_id: int, reason: str) -> None:
    """Note on the run why the background close stopped (the screen shows it and offers to ask
    again). The members' bills did not change, so nothing goes into their audit logs."""
    AllocationRun.objects.filter(pk=run_id, status=RunStatus.CLOSING).update(
        close_error=reason[:500], close_failed_at=timezone.now()
    )


def allocation_close_resume(*, run_id: int) -> AllocationRun:
    """The background close (task and ``moyai billing close``): :func:`allocation_close_perform`,
    and if it stops, the reason noted on the run before the error goes on."""
    try:
        return allocation_close_perform(run_id=run_id)
    except Exception as exc:
        reason = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
        logger.exception("billing close of run %s stopped", run_id)
        allocation_close_failed(run_id=run_id, reason=reason)
        raise


@transaction.atomic
def allocation_close(*, run: AllocationRun) -> AllocationRun:
    """月次の確定 in the foreground (CLI, demo): the request and the work in one transaction,
    all or nothing, without a task."""
    run = allocation_close_request(run=run, enqueue=False)
    return allocation_close_perform(run_id=run.pk)


def statement_context(statement: Statement, *, municipality: Municipality) -> dict[str, Any]:
    """What the statement's PDF and screen show (和暦の対象月, lines, total)."""
    return {
        "statement": statement,
        "municipality": municipality,
        "council_name": statement.council_name,
        "month_label": month_label(statement.month),
        "lines": statement.lines,
        "total": statement.total,
    }


# --- シミュレーション --------------------------------------------------------------------------


def scenario_parse(*, text: str) -> rules.Scenario:
    """A 10-year scenario from TOML text (``[[pools]]``, ``[[members]]``); errors name the field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ServiceError(f"シナリオ（TOML）を読めません: {exc}", field="scenario") from None
    try:
        return rules.parse_scenario(raw)
    except rules.RuleInputError as exc:
        raise ServiceError(exc.message, field="scenario") from None
