import pytest
from django.core.management import CommandError, call_command

from moyai.platform.models import AuditEvent, Municipality, StaffUser, SupportGrant
from moyai.platform.tenancy import tenant_context
from moyai.registry.models import Person


def test_municipality_create_validates_the_code(db, capsys) -> None:
    with pytest.raises(CommandError, match="code: 団体コード 143015 の検査数字が正しくありません"):
        call_command("municipality", "create", "143015", "葉山町")
    assert not Municipality.objects.exists()
    call_command("municipality", "create", "143014", "葉山町", "--council", "テスト協議会")
    assert "登録しました: 143014 神奈川県葉山町" in capsys.readouterr().out
    with pytest.raises(CommandError, match="登録済み"):
        call_command("municipality", "create", "143014", "葉山町")


def test_staff_create_prints_the_totp_key_once(town_a, capsys) -> None:
    call_command(
        "staff",
        "create",
        "-m",
        "143014",
        "--username",
        "clerk1",
        "--roles",
        "registry,tax",
        "--password",
        "a-long-enough-passphrase",
    )
    out = capsys.readouterr().out
    assert "TOTP 鍵" in out and "otpauth://totp/" in out
    user = StaffUser.objects.get(username="clerk1")
    assert sorted(user.role_rows.values_list("role", flat=True)) == ["registry", "tax"]
    with pytest.raises(CommandError, match="password:"):
        call_command(
            "staff",
            "create",
            "-m",
            "143014",
            "--username",
            "clerk2",
            "--roles",
            "registry",
            "--password",
            "short",
        )
    with pytest.raises(CommandError, match="roles: 権限 'mayor' はありません"):
        call_command(
            "staff",
            "create",
            "-m",
            "143014",
            "--username",
            "clerk3",
            "--roles",
            "mayor",
            "--password",
            "a-long-enough-passphrase",
        )
    assert not StaffUser.objects.filter(username__in=["clerk2", "clerk3"]).exists()


def test_no_superuser_path(db) -> None:
    with pytest.raises(NotImplementedError):
        StaffUser.objects.create_superuser("root", "", "x")


def test_demo_seeds_a_council_of_three(db, capsys) -> None:
    call_command("demo", "--no-serve", "--persons", "20")
    out = capsys.readouterr().out
    assert "143014-registry" in out and "operator" in out and "パスワード" in out
    towns = list(Municipality.objects.order_by("code").values_list("code", "name"))
    assert towns == [("143014", "葉山町"), ("143219", "寒川町"), ("143413", "大磯町")]
    assert StaffUser.objects.count() == 3 * 5 + 1
    assert SupportGrant.objects.count() == 1
    for m in Municipality.objects.all():
        with tenant_context(m):
            assert AuditEvent.objects.exists()
            assert Person.objects.count() >= 20
    # Running it again changes nothing.
    call_command("demo", "--no-serve")
    assert StaffUser.objects.count() == 16
    call_command("audit", "verify")
