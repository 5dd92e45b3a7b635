import pytest

from moyai.platform.models import AuditEvent, OutboxEvent
from moyai.platform.outbox import emit
from moyai.platform.tenancy import (
    TenantContextMissing,
    TenantMismatch,
    current_tenant_or_none,
    tenant_context,
    tenant_models,
)


def test_tenant_manager_refuses_without_context(db) -> None:
    with pytest.raises(TenantContextMissing):
        list(OutboxEvent.objects.all())
    with pytest.raises(TenantContextMissing):
        AuditEvent.objects.count()


def test_rows_are_scoped_to_the_current_municipality(town_a, town_b) -> None:
    with tenant_context(town_a):
        emit(type="t.a", payload={"who": "a"})
    with tenant_context(town_b):
        emit(type="t.b", payload={"who": "b"})
        emit(type="t.b", payload={"who": "b2"})
    with tenant_context(town_a):
        assert [e.type for e in OutboxEvent.objects.all()] == ["t.a"]
    with tenant_context(town_b):
        assert OutboxEvent.objects.count() == 2
        # Even an explicit filter on the other tenant's id finds nothing.
        assert not OutboxEvent.objects.filter(municipality_id=town_a.pk).exists()


def test_writing_a_row_of_another_tenant_is_refused(town_a, town_b) -> None:
    with tenant_context(town_a):
        event = emit(type="t.a")
    with tenant_context(town_b), pytest.raises(TenantMismatch):
        event.payload = {"changed": True}
        event.save()
    with tenant_context(town_a):
        assert OutboxEvent.objects.get(pk=event.pk).payload == {}


def test_nested_contexts_restore_the_outer_tenant(town_a, town_b) -> None:
    assert current_tenant_or_none() is None
    with tenant_context(town_a) as a:
        with tenant_context(town_b) as b:
            assert current_tenant_or_none() == b
        assert current_tenant_or_none() == a
        emit(type="after-nesting")
        assert OutboxEvent.objects.get().municipality_id == town_a.pk
    assert current_tenant_or_none() is None


def test_every_tenant_table_has_a_non_null_municipality() -> None:
    models = tenant_models()
    assert {m.__name__ for m in models} >= {
        "AuditEvent",
        "OutboxEvent",
        "ConsumerOffset",
        "JobRun",
        "AuditChainHead",
    }
    for model in models:
        field = model._meta.get_field("municipality")
        assert not field.null, model


def test_tenancy_system_check_passes() -> None:
    from moyai.platform.checks import tenant_tables_are_distributable

    assert tenant_tables_are_distributable() == []
