"""``moyai backup`` / ``moyai restore`` and the nightly task."""

from __future__ import annotations

import getpass

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from moyai.operations.backup.tasks import nightly_backup, retention
from moyai.platform.models import AuditEvent
from moyai.platform.tenancy import tenant_context

from .conftest import household, populate, run, state


def test_backup_list_restore_verify_on_the_command_line(town_a, env, cli_actor) -> None:
    populate(town_a, 2)
    assert " full: " in run("backup", "-m", town_a.code)
    moment = timezone.localtime().isoformat()
    with tenant_context(town_a):
        household("堀内", "山本", 1)
    assert " incremental: " in run("backup", "-m", town_a.code)
    before_restore = state(town_a)
    listing = run("backup", "list", "-m", town_a.code).splitlines()
    assert [line.split()[1] for line in listing] == ["full", "incremental"]
    assert (env / "off" / "tenants" / town_a.code / "snapshots").is_dir()

    with pytest.raises(CommandError, match="--yes"):
        run("restore", "-m", town_a.code, "--at", moment)
    assert state(town_a) == before_restore
    out = run("restore", "-m", town_a.code, "--at", moment, "--yes")
    assert "の状態に戻しました" in out
    with tenant_context(town_a):
        last = AuditEvent.objects.order_by("-seq").first()
        assert last is not None and last.target_type == "backup_restore"
        assert last.actor_username == f"cli:{getpass.getuser()}" and last.channel == "cli"

    assert "正常:" in run("backup", "verify", "-m", town_a.code, "--no-scratch")
    with pytest.raises(CommandError, match="日時を読めません"):
        run("restore", "-m", town_a.code, "--at", "yesterday", "--yes")


def test_wrong_key_on_the_command_line(town_a, env, monkeypatch, cli_actor) -> None:
    populate(town_a, 1)
    run("backup", "-m", town_a.code)
    monkeypatch.setenv("MOYAI_BACKUP_KEYS", f"1:{'00' * 32}")
    with pytest.raises(CommandError, match="別の鍵で書かれています"):
        run("restore", "-m", town_a.code, "--yes")
    monkeypatch.setenv("MOYAI_BACKUP_KEYS", "")
    with pytest.raises(CommandError, match="MOYAI_BACKUP_KEYS を設定してください"):
        run("backup", "-m", town_a.code)


def test_all_enqueues_one_task_per_tenant_and_the_task_backs_up(
    town_a, town_b, env, cli_actor
) -> None:
    populate(town_a, 1)
    assert "2 団体のバックアップをタスクとして登録しました" in run("backup", "--all")
    sid = nightly_backup.call(town_a.code)  # what `moyai worker` does
    assert "-full-" in sid
    assert "-incremental-" in nightly_backup.call(town_a.code)
    # Retention (default: newest + 14 days + 12 months): the same day keeps the newest only.
    listing = run("backup", "list", "-m", town_a.code).splitlines()
    assert len(listing) == 1 and "incremental" in listing[0]


def test_retention_setting(monkeypatch) -> None:
    monkeypatch.delenv("MOYAI_BACKUP_RETENTION", raising=False)
    assert retention() == (14, 12, 1)
    monkeypatch.setenv("MOYAI_BACKUP_RETENTION", "7,6")
    assert retention() == (7, 6, 1)
    monkeypatch.setenv("MOYAI_BACKUP_RETENTION", "7,6,3")
    assert retention() == (7, 6, 3)


def test_plan_and_keygen(db) -> None:
    out = run(
        "backup",
        "plan",
        "--read-seconds",
        "300",
        "--upload-bytes",
        "300000000",
        "--window-hours",
        "6",
    )
    assert "順番に 18 団体" in out and "律速: 回線" in out
    key = run("backup", "keygen").strip()
    assert len(bytes.fromhex(key)) == 32
    with pytest.raises(CommandError, match="--read-seconds"):
        run("backup", "plan")
