"""Events of 被災者支援 and the handler that keeps the 被災者台帳 current.

Emitted (by services): ``disaster.registered``, ``disaster.ledger_built``,
``disaster.damage_assessed``, ``disaster.support_decided``, ``documents.issued`` (by the engine).

Consumed: every 住民記録 異動 event (``resident.*``). For each open 災害 whose ledger is built,
the persons of the event are refreshed from their current 住民票 (転出・死亡・転居 → 状態 and
居所; a birth into a ledger household → a new 被災者). Idempotent: applying the same event
twice changes nothing the second time.
"""

from __future__ import annotations

from moyai.platform.models import OutboxEvent
from moyai.platform.outbox import register_handler

CONSUMER = "disaster.ledger"
RESIDENT_EVENTS = (
    "resident.moved_in",
    "resident.born",
    "resident.entered",
    "resident.moved_out",
    "resident.move_out_confirmed",
    "resident.died",
    "resident.removed",
    "resident.relocated",
    "resident.household_changed",
    "resident.corrected",
    "resident.name_or_domicile_changed",
    "resident.movement_cancelled",
)


def on_resident_event(event: OutboxEvent) -> None:
    from moyai.disaster.models import Disaster
    from moyai.disaster.services import ledger_refresh

    person_ids = [int(p["person_id"]) for p in event.payload.get("persons", [])]
    if not person_ids:
        return
    for disaster_id in Disaster.objects.filter(closed=False, built_at__isnull=False).values_list(
        "pk", flat=True
    ):
        ledger_refresh(disaster_id=disaster_id, person_ids=person_ids)


def register() -> None:
    register_handler(consumer=CONSUMER, event_types=RESIDENT_EVENTS, handler=on_resident_event)
