import pytest
from django.core.management import CommandError, call_command

from moyai.documents.models import SigningKey
from moyai.platform.models import AuditEvent
from moyai.platform.tenancy import tenant_context


def test_keys_rotate_and_rewrap_commands(town_a, issue, capsys) -> None:
    call_command("documents", "keys", "-m", "143014")
    assert "署名鍵はまだありません" in capsys.readouterr().out
    issue(town_a)
    with pytest.raises(CommandError, match="--municipality"):
        call_command("documents", "rotate-key", "--reason", "年次更新")
    with pytest.raises(CommandError, match="reason: 鍵を更新する理由"):
        call_command("documents", "rotate-key", "-m", "143014")
    call_command("documents", "rotate-key", "-m", "143014", "--reason", "年次更新")
    assert "第2版に更新しました" in capsys.readouterr().out
    call_command("documents", "keys", "-m", "143014")
    out = capsys.readouterr().out
    assert "第2版 使用中" in out and "第1版 使用終了" in out
    call_command("documents", "rewrap-keys")
    assert "143014 葉山町: 再暗号化 0 件" in capsys.readouterr().out
    with tenant_context(town_a):
        assert SigningKey.objects.filter(retired_at__isnull=True).get().version == 2
        rotation = AuditEvent.objects.get(target_type="signing_key", action="update")
    assert rotation.purpose == "年次更新" and rotation.actor_username.startswith("cli:")
