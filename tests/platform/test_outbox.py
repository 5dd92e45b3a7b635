"""The outbox: events commit with the change; a dispatcher killed mid-batch resumes exactly once."""

import pytest

from moyai.platform.models import ConsumerOffset, OutboxEvent
from moyai.platform.outbox import (
    Consumer,
    dispatch_tenant,
    emit,
    register_handler,
    unregister_handler,
)
from moyai.platform.tenancy import tenant_context


class Crash(BaseException):
    """Stands for the process dying (not an ordinary error a handler might catch)."""


@pytest.fixture
def ledger():
    """An idempotent handler that records each delivery, and can be told to crash."""

    class Ledger:
        def __init__(self) -> None:
            self.delivered: list[int] = []
            self.crash_on: int | None = None

        def __call__(self, event: OutboxEvent) -> None:
            if event.pk == self.crash_on:
                raise Crash
            # The handler's own database effect, inside the dispatcher's transaction:
            emit(type="test.handled", payload={"of": event.pk})
            self.delivered.append(event.pk)

    ledger = Ledger()
    register_handler(consumer="test.ledger", event_types={"test.happened"}, handler=ledger)
    yield ledger
    unregister_handler("test.ledger")


def _handled(town) -> list[int]:
    with tenant_context(town):
        return sorted(e.payload["of"] for e in OutboxEvent.objects.filter(type="test.handled"))


def test_an_event_exists_only_if_its_transaction_commits(town_a) -> None:
    with pytest.raises(RuntimeError), tenant_context(town_a):
        emit(type="test.happened")
        raise RuntimeError("the service failed")
    with tenant_context(town_a):
        assert OutboxEvent.objects.count() == 0


def test_killed_dispatcher_resumes_and_delivers_each_event_once(town_a, town_b, ledger) -> None:
    with tenant_context(town_a):
        ids = [emit(type="test.happened", payload={"n": i}).pk for i in range(10)]
        emit(type="test.other")
    with tenant_context(town_b):
        emit(type="test.happened", payload={"n": "b"})

    consumer = Consumer("test.ledger", frozenset({"test.happened"}), ledger)
    ledger.crash_on = ids[6]
    with pytest.raises(Crash):
        dispatch_tenant(town_a, batch_size=4, consumers=[consumer])
    # Events 0–5 were committed one by one; the crashed one left nothing behind.
    assert ledger.delivered == ids[:6]
    assert _handled(town_a) == ids[:6]
    with tenant_context(town_a):
        assert ConsumerOffset.objects.get(consumer="test.ledger").last_event_id == ids[5]

    ledger.crash_on = None
    stats = dispatch_tenant(town_a, batch_size=4, consumers=[consumer])
    assert stats.delivered == 4 and stats.skipped >= 1
    assert ledger.delivered == ids
    assert _handled(town_a) == ids  # every event handled exactly once

    # Running again delivers nothing new; the other municipality is untouched until its turn.
    assert dispatch_tenant(town_a, consumers=[consumer]).delivered == 0
    assert _handled(town_b) == []
    assert dispatch_tenant(town_b, consumers=[consumer]).delivered == 1


def test_a_second_dispatcher_does_not_redeliver(town_a, ledger) -> None:
    consumer = Consumer("test.ledger", frozenset({"test.happened"}), ledger)
    with tenant_context(town_a):
        ids = [emit(type="test.happened").pk for _ in range(3)]
    dispatch_tenant(town_a, consumers=[consumer])
    # A stale dispatcher that read the offset before the first one advanced it:
    with tenant_context(town_a):
        ConsumerOffset.objects.filter(consumer="test.ledger").update(last_event_id=ids[2])
    assert dispatch_tenant(town_a, consumers=[consumer]).delivered == 0
    assert ledger.delivered == ids


def test_registering_a_different_handler_under_a_taken_name_fails(ledger) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_handler(consumer="test.ledger", event_types={"x"}, handler=lambda e: None)


def test_events_command_dispatches_every_municipality(town_a, town_b, ledger, capsys) -> None:
    from django.core.management import call_command

    with tenant_context(town_a):
        emit(type="test.happened")
    with tenant_context(town_b):
        emit(type="test.happened")
    call_command("events", "dispatch")
    assert len(ledger.delivered) == 2
    assert "配信完了: 2 件" in capsys.readouterr().out
