import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from moyai.platform.audit import (
    Actor,
    ActorMissing,
    _hash_matches,
    _legacy_record_body,
    acting_as,
    audit_record,
    audit_verify_chain,
)
from moyai.platform.models import AuditEvent, Municipality, Role, StaffUser
from moyai.platform.rules import GENESIS_HASH, chain_hash
from moyai.platform.tenancy import tenant_context

from ..conftest import on_postgres


def _write(town, in_town, n: int) -> list[AuditEvent]:
    with in_town(town):
        return [
            audit_record(
                action="read", target_type="person", target_id=str(i), purpose="窓口での確認"
            )
            for i in range(n)
        ]


def test_rows_chain_per_municipality(town_a, town_b, in_town) -> None:
    """Each chain starts with the municipality's own registration (連番 1), then its rows."""
    a = _write(town_a, in_town, 3)
    b = _write(town_b, in_town, 2)
    assert [e.seq for e in a] == [2, 3, 4]
    assert [e.seq for e in b] == [2, 3]
    with tenant_context(town_a):
        first = AuditEvent.objects.get(seq=1)
    assert (first.action, first.target_type, first.target_id) == (
        "create",
        "municipality",
        "143014",
    )
    assert first.prev_hash == GENESIS_HASH and first.actor_username == "cli:test"
    assert a[0].prev_hash == first.hash
    assert a[1].prev_hash == a[0].hash and a[2].prev_hash == a[1].hash
    report = audit_verify_chain(municipality=town_a)
    assert report.ok and report.rows == 4 and report.head_hash == a[2].hash


def test_recording_needs_an_actor(town_a) -> None:
    with tenant_context(town_a), pytest.raises(ActorMissing):
        audit_record(action="read", target_type="person", target_id="1")


def _as_owner(sql: str, params: list) -> None:
    """Tamper the way someone with database access would (bypassing the app's privileges)."""
    with connection.cursor() as cur:
        if on_postgres():
            cur.execute("RESET ROLE")
        try:
            cur.execute(sql, params)
        finally:
            if on_postgres():
                from django.conf import settings

                cur.execute(f"SET ROLE {settings.DB_APP_ROLE}")


def test_verify_names_an_edited_row(town_a, town_b, in_town, capsys) -> None:
    rows = _write(town_a, in_town, 5)
    _write(town_b, in_town, 2)
    _as_owner("UPDATE platform_auditevent SET purpose = %s WHERE id = %s", ["改ざん", rows[2].pk])
    with pytest.raises(CommandError, match="失敗した団体: 1"):
        call_command("audit", "verify")
    out = capsys.readouterr().out
    assert f"連番 {rows[2].seq} 行ID {rows[2].pk}: 行の内容がハッシュと一致しません" in out
    assert "143219 寒川町: OK 3 行" in out  # its registration and two rows


def test_verify_detects_a_deleted_row_and_a_deleted_tail(town_a, in_town, capsys) -> None:
    rows = _write(town_a, in_town, 4)
    _as_owner("DELETE FROM platform_auditevent WHERE id = %s", [rows[1].pk])
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--municipality", town_a.code)
    out = capsys.readouterr().out
    gone = rows[1].seq
    assert f"連番 {gone}〜{gone} の行がありません" in out
    assert f"連番 {rows[2].seq} 行ID {rows[2].pk}: 前の行のハッシュと一致しません" in out

    _as_owner("DELETE FROM platform_auditevent WHERE id = %s", [rows[3].pk])
    _as_owner("DELETE FROM platform_auditevent WHERE id = %s", [rows[2].pk])
    # Only the first rows are left and intact, but the chain head remembers the last one.
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--municipality", town_a.code)
    assert f"末尾の記録（連番 {rows[3].seq}）と一致しません" in capsys.readouterr().out


def test_verify_passes_on_an_untouched_log(town_a, in_town, capsys) -> None:
    _write(town_a, in_town, 3)
    call_command("audit", "verify")
    assert "143014 葉山町: OK 4 行" in capsys.readouterr().out  # its registration and 3 rows


def test_a_row_is_bound_to_the_code_not_the_internal_number(town_a, town_b, in_town) -> None:
    """A tenant restored where its internal number is taken keeps a verifiable chain: the hash
    covers the 団体コード. Any other change still breaks it."""
    [event] = _write(town_a, in_town, 1)
    event.municipality_id = town_b.pk  # the number it would get in another deployment
    assert _hash_matches(event, town_a.code)
    assert not _hash_matches(event, town_b.code)
    event.purpose = "改ざん"
    assert not _hash_matches(event, town_a.code)


def test_rows_hashed_with_the_internal_number_still_verify(town_a, in_town) -> None:
    """Rows written before the chain covered the 団体コード (it covered the internal number)."""
    _write(town_a, in_town, 3)
    with tenant_context(town_a):
        rows = list(AuditEvent.objects.order_by("seq"))  # the registration and the 3 rows
    prev = GENESIS_HASH
    for event in rows:
        event.prev_hash = prev
        event.hash = chain_hash(prev, _legacy_record_body(event))
        _as_owner(
            "UPDATE platform_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [event.prev_hash, event.hash, event.pk],
        )
        prev = event.hash
    _as_owner(
        "UPDATE platform_auditchainhead SET last_hash = %s WHERE municipality_id = %s",
        [prev, town_a.pk],
    )
    assert audit_verify_chain(municipality=town_a).ok
    _as_owner("UPDATE platform_auditevent SET purpose = %s WHERE id = %s", ["改ざん", rows[1].pk])
    report = audit_verify_chain(municipality=town_a)
    assert [p.seq for p in report.problems] == [rows[1].seq]


def test_staff_registration_is_in_the_municipality_log_without_secrets(town_a, make_staff) -> None:
    from moyai.platform import services
    from moyai.platform.errors import ServiceError

    staff = make_staff(town_a, Role.TAX, username="tax-clerk")
    with tenant_context(town_a):
        [row] = AuditEvent.objects.filter(target_type="staff")
    assert (row.action, row.target_id, row.purpose) == ("create", str(staff.user.pk), "職員の登録")
    assert row.detail == {"username": "tax-clerk", "roles": ["tax"]}  # no password, no key
    with acting_as(Actor(username="cli:test", channel="cli")), pytest.raises(ServiceError):
        services.staff_create(
            municipality=town_a, username="weak", password="short", roles=[Role.TAX]
        )
    with tenant_context(town_a):
        assert AuditEvent.objects.filter(target_type="staff").count() == 1  # refused: no row
    assert not StaffUser.objects.filter(username="weak").exists()


def test_registering_needs_someone_acting(db) -> None:
    """Nobody recorded as acting: nothing is registered (the audit log would have no actor)."""
    from moyai.platform import services

    with pytest.raises(ActorMissing):
        services.municipality_create(code="143014", name="葉山町")
    assert not Municipality.objects.exists()
