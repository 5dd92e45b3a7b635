"""PostgreSQL row-level security: the second wall behind the tenant managers."""

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from moyai.platform.outbox import emit
from moyai.platform.tenancy import RLS_SETTING, tenant_context, tenant_models

from ..conftest import on_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgres_only(db) -> None:
    if not on_postgres():
        pytest.skip("row-level security exists on PostgreSQL only")


def _scalar(sql: str, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchone()[0]


def test_tests_run_as_the_application_role() -> None:
    assert _scalar("SELECT current_user") == settings.DB_APP_ROLE
    assert (
        _scalar("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        is False
    )


def test_application_role_owns_nothing() -> None:
    owned = _scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = %s",
        [settings.DB_APP_ROLE],
    )
    assert owned == 0


def test_every_tenant_table_forces_row_level_security() -> None:
    for model in tenant_models():
        table = model._meta.db_table
        enabled, forced = None, None
        with connection.cursor() as cur:
            cur.execute(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s",
                [table],
            )
            enabled, forced = cur.fetchone()
        assert enabled and forced, table
        assert _scalar("SELECT count(*) FROM pg_policies WHERE tablename = %s", [table]) == 1


def test_raw_sql_without_the_tenant_setting_returns_no_rows(town_a, town_b) -> None:
    with tenant_context(town_a):
        emit(type="secret.a", payload={"name": "髙橋"})
    with tenant_context(town_b):
        emit(type="secret.b")
    # Outside any tenant context the setting is empty: a raw query sees nothing.
    assert _scalar("SELECT count(*) FROM platform_outboxevent") == 0
    assert _scalar("SELECT current_setting(%s, true)", [RLS_SETTING]) in ("", None)
    with tenant_context(town_b):
        # Inside B's context, raw SQL sees only B — even when asking for A's rows by id.
        assert _scalar("SELECT count(*) FROM platform_outboxevent") == 1
        assert (
            _scalar(
                "SELECT count(*) FROM platform_outboxevent WHERE municipality_id = %s", [town_a.pk]
            )
            == 0
        )


def test_raw_insert_for_another_tenant_is_rejected(town_a, town_b) -> None:
    with (
        tenant_context(town_a),
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(
            "INSERT INTO platform_outboxevent (municipality_id, type, subject_type, "
            "subject_id, payload, occurred_at) VALUES (%s, 'x', '', '', '{}', now())",
            [town_b.pk],
        )
    with tenant_context(town_b):
        assert _scalar("SELECT count(*) FROM platform_outboxevent") == 0


def test_the_audit_log_cannot_be_updated_or_deleted_by_the_app(town_a, in_town) -> None:
    from moyai.platform.audit import audit_record

    with in_town(town_a):
        audit_record(action="read", target_type="person", target_id="1")
        for sql in (
            "UPDATE platform_auditevent SET purpose = 'x'",
            "DELETE FROM platform_auditevent",
        ):
            with (
                pytest.raises(DatabaseError, match="permission denied"),
                transaction.atomic(),
                connection.cursor() as cur,
            ):
                cur.execute(sql)
