"""``moyai demo`` and ``moyai demo_code`` as a visitor meets them: the address, the code from
another directory, and the 国保 logins whose screens are not built yet."""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from moyai.platform.management.commands import demo as demo_command
from moyai.platform.management.commands import demo_code
from moyai.platform.models import Role

REPO = Path(__file__).resolve().parents[2]


def _visitor_env(**extra: str) -> dict[str, str]:
    """The environment of someone typing ``moyai demo_code`` in a terminal (no test settings)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MOYAI_", "DJANGO_")) and k != "PYTEST_CURRENT_TEST"
    }
    return {**env, **extra}


def _demo_code_in(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moyai", "demo_code"],
        cwd=cwd,
        env=_visitor_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_demo_code_elsewhere_explains_and_creates_nothing(tmp_path) -> None:
    done = _demo_code_in(tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert (
        f"デモ環境が見つかりません（{tmp_path / 'var' / 'moyai.sqlite3'} がありません）"
        in done.stderr
    )
    assert "moyai demo を実行したディレクトリで実行するか" in done.stderr
    assert "環境変数 MOYAI_DATA_DIR にそのディレクトリの var を指定してください" in done.stderr
    assert list(tmp_path.iterdir()) == []  # no stray var/, database or key


def test_demo_code_with_a_data_dir_that_does_not_exist_creates_nothing(tmp_path) -> None:
    elsewhere = tmp_path / "nowhere"
    done = _demo_code_in(tmp_path, MOYAI_DATA_DIR=str(elsewhere))
    assert done.returncode == 1
    assert f"{elsewhere / 'moyai.sqlite3'} がありません" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_demo_code_on_a_database_without_the_demo_explains(tmp_path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "moyai.sqlite3").touch()  # a file, but no tables
    done = _demo_code_in(tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "デモ環境が見つかりません（データベースにデモの職員がいません）" in done.stderr


def test_the_check_uses_the_settings_rule_for_the_data_dir() -> None:
    """One rule (``platform.paths.data_dir``) for the settings and the check."""
    assert demo_code.data_dir(os.environ, Path.cwd()) == settings.DATA_DIR
    assert demo_code.data_dir({}, Path("/srv/x")) == Path("/srv/x/var")
    assert demo_code.data_dir({"MOYAI_DATA_DIR": "/d"}, Path("/srv/x")) == Path("/d")


def test_the_check_passes_when_the_database_is_there_or_not_a_file(tmp_path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "moyai.sqlite3").touch()
    assert demo_code.missing_demo_database({}, tmp_path) is None
    url = {"MOYAI_DATABASE_URL": "postgres://x/y"}
    assert demo_code.missing_demo_database(url, tmp_path / "empty") is None
    assert demo_code.missing_demo_database({}, tmp_path / "empty") is not None


def _checkout(root: Path, *, operator: bool) -> Path:
    (root / "var").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'moyai'\n")
    with sqlite3.connect(root / "var" / "moyai.sqlite3") as db:
        db.execute("CREATE TABLE platform_staffuser (username TEXT)")
        if operator:
            db.execute("INSERT INTO platform_staffuser VALUES ('operator')")
    return root


def test_the_message_points_at_the_checkout_where_the_demo_was_made(tmp_path, monkeypatch) -> None:
    checkout = _checkout(tmp_path / "clone", operator=True)
    monkeypatch.setattr(demo_code, "CHECKOUT", checkout)
    message = demo_code.missing_demo_database({}, tmp_path)
    assert message is not None
    assert (
        f"デモ環境は {checkout} にあります: cd {checkout} && .venv/bin/moyai demo_code" in message
    )
    # Not from inside the checkout itself, and not when the checkout has no demo.
    assert "にあります" not in demo_code.no_demo_message("x", checkout)
    monkeypatch.setattr(demo_code, "CHECKOUT", _checkout(tmp_path / "bare", operator=False))
    assert "にあります" not in (demo_code.missing_demo_database({}, tmp_path) or "")


def test_demo_code_prints_the_code_or_says_there_is_no_demo(db, make_staff, capsys) -> None:
    with pytest.raises(CommandError, match="データベースにデモの職員がいません"):
        call_command("demo_code")
    operator = make_staff(None, Role.OPERATOR, username="operator")
    call_command("demo_code")
    assert capsys.readouterr().out.strip() == operator.token()


def test_demo_addr_has_help() -> None:
    parser = demo_command.Command().create_parser("moyai", "demo")
    addr = next(a for a in parser._actions if "--addr" in a.option_strings)
    assert addr.default == "127.0.0.1:8000"
    assert addr.help and "127.0.0.1:8765" in addr.help and "ポート" in addr.help


@pytest.mark.skipif(
    shutil.which("make") is None,
    reason="make is not installed (pytest was started directly; `make check` always has it)",
)
def test_make_demo_passes_the_address() -> None:
    def dry_run(*args: str) -> str:
        done = subprocess.run(
            ["make", "-n", "demo", "VENV=/nonexistent-venv", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    assert "/nonexistent-venv/bin/moyai demo --addr 127.0.0.1:8000\n" in dry_run()
    chosen = dry_run("DEMO_ADDR=127.0.0.1:8765")
    assert "/nonexistent-venv/bin/moyai demo --addr 127.0.0.1:8765\n" in chosen


def test_readme_tells_how_to_choose_the_address() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    japanese, english = readme.split("*`make demo` installs", 1)
    assert "`make demo DEMO_ADDR=127.0.0.1:8765`" in japanese
    assert "`make demo DEMO_ADDR=127.0.0.1:8765`" in english.split("## ", 1)[0]


def test_demo_prints_that_the_health_insurance_screens_are_not_built(
    db, make_staff, capsys
) -> None:
    make_staff(None, Role.OPERATOR, username="operator")  # an existing demo: nothing is seeded
    call_command("demo", "--no-serve")
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if re.match(r"   14\d{4}-", line)]
    assert len(lines) == 15
    for line in lines:
        if "-health_insurance" in line:
            assert line.endswith(" 国保  ※この業務の画面は未実装（ログインのみ）"), line
        else:
            assert "未実装" not in line, line
