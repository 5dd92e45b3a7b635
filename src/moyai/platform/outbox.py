"""The transactional outbox and its dispatcher.

A service calls :func:`emit` inside its transaction, so the event exists exactly when the change
does. Apps register handlers (in their ``events.py``) under a consumer name; the dispatcher walks
each municipality's outbox from that consumer's stored offset. Each event is handled in its own
transaction together with the offset update, so a dispatcher killed at any point resumes where
it stopped: database effects of a handler happen once; handlers must still be idempotent for
effects outside the database (they receive the event id to deduplicate on).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from moyai.platform.models import ConsumerOffset, Municipality, OutboxEvent
from moyai.platform.tenancy import current_tenant, tenant_context

Handler = Callable[[OutboxEvent], None]


@dataclass(frozen=True)
class Consumer:
    name: str
    event_types: frozenset[str]
    handler: Handler


_consumers: dict[str, Consumer] = {}


def register_handler(*, consumer: str, event_types: Iterable[str], handler: Handler) -> None:
    """Register ``handler`` for ``event_types`` under a stable consumer name (its offset key)."""
    if consumer in _consumers and _consumers[consumer].handler is not handler:
        raise ValueError(f"consumer {consumer!r} is already registered")
    _consumers[consumer] = Consumer(consumer, frozenset(event_types), handler)


def unregister_handler(consumer: str) -> None:
    _consumers.pop(consumer, None)


def registered_consumers() -> list[Consumer]:
    return list(_consumers.values())


def emit(
    *,
    type: str,
    subject_type: str = "",
    subject_id: str | int = "",
    payload: Mapping[str, Any] | None = None,
) -> OutboxEvent:
    """Write one event for the current municipality in the caller's transaction."""
    current_tenant()
    event: OutboxEvent = OutboxEvent.objects.create(
        type=type,
        subject_type=subject_type,
        subject_id=str(subject_id),
        payload=dict(payload or {}),
    )
    return event


@dataclass
class DispatchStats:
    delivered: int = 0
    skipped: int = 0
    per_consumer: dict[str, int] = field(default_factory=dict)


def dispatch_tenant(
    municipality: Municipality,
    *,
    batch_size: int = 500,
    consumers: Iterable[Consumer] | None = None,
) -> DispatchStats:
    """Deliver ``municipality``'s pending events to every consumer, in id order.

    Each event is one transaction of its own (handler effects + offset), so progress is
    committed event by event and a killed dispatcher loses nothing.
    """
    stats = DispatchStats()
    for consumer in list(consumers if consumers is not None else _consumers.values()):
        with tenant_context(municipality):
            offset, _ = ConsumerOffset.objects.get_or_create(consumer=consumer.name)
        last = offset.last_event_id
        while True:
            with tenant_context(municipality):
                batch = list(OutboxEvent.objects.filter(id__gt=last).order_by("id")[:batch_size])
            if not batch:
                break
            for event in batch:
                with tenant_context(municipality):
                    # Lock the offset row and re-check: another dispatcher may have advanced it.
                    row = ConsumerOffset.objects.select_for_update().get(pk=offset.pk)
                    last = max(last, row.last_event_id)
                    if row.last_event_id >= event.id:
                        continue
                    if event.type in consumer.event_types:
                        consumer.handler(event)
                        stats.delivered += 1
                        stats.per_consumer[consumer.name] = (
                            stats.per_consumer.get(consumer.name, 0) + 1
                        )
                    else:
                        stats.skipped += 1
                    row.last_event_id = event.id
                    row.updated_at = timezone.now()
                    row.save(update_fields=["last_event_id", "updated_at"])
                    last = event.id
    return stats


def dispatch_all(*, batch_size: int = 500) -> dict[str, DispatchStats]:
    """Run :func:`dispatch_tenant` for every active municipality."""
    return {
        m.code: dispatch_tenant(m, batch_size=batch_size)
        for m in Municipality.objects.filter(is_active=True).order_by("code")
    }
