"""監査ログ: append to and verify the per-municipality, hash-chained audit log.

Who acts is a context value (:func:`acting_as`) set by the web middleware, the CLI and the task
runner, so that selectors and services record the actor without passing it around.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from moyai.platform.models import AuditAction, AuditChainHead, AuditEvent, Municipality
from moyai.platform.rules import GENESIS_HASH, chain_hash
from moyai.platform.tenancy import current_tenant, tenant_context


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff member (web/api), an operator command (cli) or a task."""

    username: str
    channel: str
    user_id: int | None = None
    municipality_code: str = ""
    support_grant_id: int | None = None
    source_ip: str = ""


_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("moyai_actor", default=None)


class ActorMissing(RuntimeError):
    """Personal data was touched with nobody recorded as acting."""


def current_actor() -> Actor:
    actor = _actor.get()
    if actor is None:
        raise ActorMissing("操作者が設定されていません: no actor in context for the audit log")
    return actor


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def _record_body(event: AuditEvent, municipality_code: str) -> dict[str, Any]:
    """The fields a row's hash covers (everything but the hash itself). The row is bound to its
    municipality by the 団体コード, which a tenant keeps wherever it is restored or moved, not
    by this deployment's internal number."""
    return {
        "municipality_code": municipality_code,
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "actor_municipality_code": event.actor_municipality_code,
        "support_grant_id": event.support_grant_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "purpose": event.purpose,
        "detail": event.detail,
        "source_ip": event.source_ip,
        "channel": event.channel,
        "prev_hash": event.prev_hash,
    }


def _legacy_record_body(event: AuditEvent) -> dict[str, Any]:
    """What rows written before the 団体コード was hashed covered instead: the internal number.
    They verify where the tenant keeps that number."""
    body = _record_body(event, "")
    del body["municipality_code"]
    return {"municipality_id": event.municipality_id, **body}


def audit_record(
    *,
    action: AuditAction | str,
    target_type: str,
    target_id: str | int = "",
    purpose: str = "",
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one row to the current municipality's audit chain (inside the caller's transaction).

    The chain head is locked for the append, so concurrent writers queue instead of forking the
    chain; the unique (municipality, seq) constraint is the last line of defence.
    """
    tenant = current_tenant()
    actor = current_actor()
    # Inside the caller's transaction (a tenant context always opens one): no savepoint per
    # row — a failed append fails the whole unit of work anyway.
    with transaction.atomic(savepoint=False):
        head_id = AuditChainHead.objects.get_or_create(
            municipality_id=tenant.id, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
        )[0].pk
        head = AuditChainHead.objects.select_for_update().get(pk=head_id)
        now = timezone.now()
        event = AuditEvent(
            municipality_id=tenant.id,
            seq=head.last_seq + 1,
            occurred_at=now,
            actor_id=actor.user_id,
            actor_username=actor.username,
            actor_municipality_code=actor.municipality_code,
            support_grant_id=actor.support_grant_id,
            action=str(action),
            target_type=target_type,
            target_id=str(target_id),
            purpose=purpose,
            detail=dict(detail or {}),
            source_ip=actor.source_ip,
            channel=actor.channel,
            prev_hash=head.last_hash,
        )
        event.hash = chain_hash(event.prev_hash, _record_body(event, tenant.code))
        event.save(force_insert=True)
        head.last_seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


def _hash_matches(event: AuditEvent, municipality_code: str) -> bool:
    if chain_hash(event.prev_hash, _record_body(event, municipality_code)) == event.hash:
        return True
    return chain_hash(event.prev_hash, _legacy_record_body(event)) == event.hash


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    row_id: int | None
    reason: str


@dataclass(frozen=True)
class ChainReport:
    municipality_code: str
    rows: int
    head_hash: str
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_verify_chain(*, municipality: Municipality, batch_size: int = 5000) -> ChainReport:
    """Recompute a municipality's chain and name every row that does not fit.

    The head is read first and rows are checked up to it, so appends made while verifying do
    not raise false alarms; each batch is read in its own short transaction.
    """
    with tenant_context(municipality):
        head = AuditChainHead.objects.first()
    end_seq = head.last_seq if head else None
    problems: list[ChainProblem] = []
    prev_hash = GENESIS_HASH
    expected_seq = 1
    rows = 0
    last_seq = 0
    while True:
        with tenant_context(municipality):
            qs = AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")
            if end_seq is not None:
                qs = qs.filter(seq__lte=end_seq)
            batch = list(qs[:batch_size])
        if not batch:
            break
        for event in batch:
            rows += 1
            if event.seq != expected_seq:
                problems.append(
                    ChainProblem(
                        expected_seq,
                        None,
                        f"連番 {expected_seq}〜{event.seq - 1} の行がありません"
                        "（削除された可能性）",
                    )
                )
            if event.prev_hash != prev_hash:
                problems.append(
                    ChainProblem(
                        event.seq,
                        event.pk,
                        "前の行のハッシュと一致しません（前の行が改ざん・削除）",
                    )
                )
            if not _hash_matches(event, municipality.code):
                problems.append(
                    ChainProblem(event.seq, event.pk, "行の内容がハッシュと一致しません（改ざん）")
                )
            prev_hash = event.hash
            expected_seq = event.seq + 1
            last_seq = event.seq
    if head is not None and (head.last_seq != last_seq or head.last_hash != prev_hash):
        problems.append(
            ChainProblem(
                head.last_seq,
                None,
                f"末尾の記録（連番 {head.last_seq}）と一致しません（末尾の行が削除された可能性）",
            )
        )
    if head is None:
        with tenant_context(municipality):
            orphans = AuditEvent.objects.count()
        if orphans:
            problems.append(ChainProblem(0, None, "チェーンの末尾記録がありません"))
            rows = orphans
    return ChainReport(municipality.code, rows, prev_hash, problems)
