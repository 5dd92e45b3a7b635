"""The restore drill: full + two incrementals, changes and deletions, restore to a moment
between the incrementals; the tenant equals its state then, another tenant is untouched."""

from __future__ import annotations

import pytest
from django.utils import timezone

from moyai.operations.backup import services
from moyai.operations.backup.tables import AUDIT_TABLE
from moyai.platform.audit import audit_verify_chain
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent, Counter
from moyai.platform.tenancy import tenant_context
from moyai.registry import services as registry
from moyai.registry.models import Person, ResidentRecord
from moyai.registry.services import Address

from .conftest import HEAD, household, note, populate, state, without

COUNTERS = ("platform.Counter", "documents.DocumentSerialCounter")


def test_restore_drill(town_a, town_b, cli_actor, targets, keys) -> None:
    populate(town_a, 6)
    populate(town_b, 3, family="鈴木")
    b_before = state(town_b)

    full = services.backup_tenant(municipality=town_a, kind="full", targets=targets, keys=keys)
    assert full.kind == "full" and full.stats.new_chunks > 0

    with tenant_context(town_a):
        first = registry.relocation(
            notification=note("2026-05-01"),
            person_ids=list(Person.objects.order_by("pk").values_list("pk", flat=True)[:1]),
            address=Address(town="堀内", block="2番地"),
        )
        household("長柄", "佐藤", 2)
    inc1 = services.backup_tenant(
        municipality=town_a, kind="incremental", targets=targets, keys=keys
    )
    assert inc1.kind == "incremental" and not inc1.unchanged
    # Only the chunks around the change are new: most of the data is not stored twice.
    assert 0 < inc1.stats.new_chunks < inc1.stats.chunks
    a_at_inc1 = state(town_a)
    between = timezone.now()

    with tenant_context(town_a):
        registry.death(notification=note("2026-06-01"), person_id=first.records[0].person_id)
        household("木古庭", "田中", 3)
    inc2 = services.backup_tenant(
        municipality=town_a, kind="incremental", targets=targets, keys=keys
    )
    assert inc2.taken_at > between > inc1.taken_at

    # After the last backup: more changes, and rows deleted outright (data loss).
    with tenant_context(town_a):
        household("上山口", "高橋", 1)
        ResidentRecord.objects.filter(person_id=first.records[0].person_id).delete()
    assert state(town_a) != a_at_inc1

    with tenant_context(town_a):
        counters_before = dict(Counter.objects.values_list("name", "value"))
    result = services.restore_tenant(
        municipality_code=town_a.code, at=between, targets=targets, keys=keys
    )
    assert result.snapshot_id == inc1.snapshot_id
    assert not result.created_municipality

    after = state(town_a)
    # Every tenant table equals its state at the incremental (the audit log and the numbering
    # counters aside) …
    assert without(after, AUDIT_TABLE, HEAD, *COUNTERS) == without(
        a_at_inc1, AUDIT_TABLE, HEAD, *COUNTERS
    )
    # … the counters keep the numbers handed out since (never handed out twice) …
    with tenant_context(town_a):
        assert dict(Counter.objects.values_list("name", "value")) == counters_before
    # … and the append-only audit log still holds everything: the log at that moment is its
    # prefix, then what happened since, then the restore itself.
    then = a_at_inc1[AUDIT_TABLE]
    assert after[AUDIT_TABLE][: len(then)] == then
    assert len(after[AUDIT_TABLE]) > len(then)
    with tenant_context(town_a):
        last = AuditEvent.objects.order_by("-seq").first()
        assert last is not None
        assert last.target_type == "backup_restore" and last.target_id == inc1.snapshot_id
    assert audit_verify_chain(municipality=town_a).ok

    # The other tenant: every row and the audit chain unchanged.
    assert state(town_b) == b_before
    assert audit_verify_chain(municipality=town_b).ok

    # Restoring to the moment after the second incremental gives its state; work goes on.
    services.restore_tenant(
        municipality_code=town_a.code, snapshot=inc2.snapshot_id, targets=targets, keys=keys
    )
    with tenant_context(town_a):
        assert not ResidentRecord.objects.filter(
            person_id=first.records[0].person_id, is_latest=True, status="1"
        ).exists()
        household("一色", "伊藤", 1)  # numbering continues without collisions
    assert audit_verify_chain(municipality=town_a).ok


def test_no_backup_before_the_moment(town_a, cli_actor, targets, keys) -> None:
    populate(town_a, 1)
    before = timezone.now()
    services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    with pytest.raises(ServiceError, match="以前のバックアップはありません"):
        services.restore_tenant(
            municipality_code=town_a.code, at=before, targets=targets, keys=keys
        )


def test_incremental_without_changes_reads_nothing(town_a, cli_actor, targets, keys) -> None:
    populate(town_a, 2)
    first = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    second = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    assert first.kind == "full" and second.kind == "incremental"
    assert second.unchanged and second.stats.chunks == 0 and second.stats.new_chunks == 0
    assert second.rows == first.rows
    with tenant_context(town_a):
        household("堀内", "山本", 1)
    third = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    assert not third.unchanged and third.stats.new_chunks > 0


def test_awkward_values_survive_backup_and_restore(town_a, cli_actor, targets, keys) -> None:
    from moyai.exchange.models import GaijiQueueItem
    from moyai.platform.models import OutboxEvent

    populate(town_a, 1)
    before = state(town_a)
    services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    with tenant_context(town_a):
        OutboxEvent.objects.all().delete()
        GaijiQueueItem.objects.all().delete()
    services.restore_tenant(municipality_code=town_a.code, targets=targets, keys=keys)
    after = state(town_a)
    assert without(after, AUDIT_TABLE, HEAD) == without(before, AUDIT_TABLE, HEAD)
    with tenant_context(town_a):
        event = OutboxEvent.objects.get(type="test.populated")
        assert event.subject_id == "tab\there\\back\nline"
        assert event.payload["text"] == "a\tb\nc\\d「𠮷」"
        item = GaijiQueueItem.objects.get()
        assert bytes(item.image) == b"\x89PNG\x00\t\n\\\xff" * 3
