"""``moyai demo_code``: print the current demo TOTP code (demo and test profiles only).

The demo's data lives where ``moyai demo`` was run (``./var``, or ``MOYAI_DATA_DIR``). Run from
anywhere else there is nothing to read: ``moyai`` checks that before Django's settings are loaded
(:func:`missing_demo_database`), because loading them would create ``var/`` and a key in the
current directory.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from moyai.platform.paths import data_dir

DATABASE_FILE = "moyai.sqlite3"
# The source checkout (``src/moyai/platform/management/commands/`` is five levels down), where
# ``make demo`` runs; for an installed package this is site-packages' parent and has no demo.
CHECKOUT = Path(__file__).resolve().parents[5]


def _has_demo(database: Path) -> bool:
    """Whether a SQLite file holds the demo (its ``operator``), read-only and without Django."""
    if not database.is_file():
        return False
    try:
        with closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as db:
            found = db.execute(
                "SELECT 1 FROM platform_staffuser WHERE username = 'operator'"
            ).fetchone()
    except sqlite3.Error:
        return False
    return found is not None


def _checkout_with_demo(cwd: Path) -> Path | None:
    """The source checkout this code runs from, when ``moyai demo`` was run there."""
    root = CHECKOUT
    if root == cwd.resolve() or not (root / "pyproject.toml").is_file():
        return None
    return root if _has_demo(root / "var" / DATABASE_FILE) else None


def no_demo_message(reason: str, cwd: Path) -> str:
    message = (
        f"デモ環境が見つかりません（{reason}）。"
        "moyai demo を実行したディレクトリで実行するか、"
        "環境変数 MOYAI_DATA_DIR にそのディレクトリの var を指定してください。"
    )
    checkout = _checkout_with_demo(cwd)
    if checkout is not None:
        message += f"\nデモ環境は {checkout} にあります: cd {checkout} && .venv/bin/moyai demo_code"
    return message


def missing_demo_database(
    environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> str | None:
    """The message to print when there is no demo database file, else ``None`` (also when the
    database is not a file, ``MOYAI_DATABASE_URL``: the command itself finds out then)."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    if environ.get("MOYAI_DATABASE_URL"):
        return None
    database = data_dir(environ, cwd) / DATABASE_FILE
    return None if database.is_file() else no_demo_message(f"{database} がありません", cwd)


class Command(BaseCommand):
    help = (
        "デモ職員の現在の確認コードを表示します（デモ環境のみ。"
        "moyai demo を実行したディレクトリで、または MOYAI_DATA_DIR を指定して）。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        from django_otp.oath import TOTP
        from django_otp.plugins.otp_totp.models import TOTPDevice

        if settings.ENV == "production":
            raise CommandError("本番環境では使えません")
        try:
            device = TOTPDevice.objects.filter(user__username="operator").first()
        except DatabaseError:  # a database without the demo's tables
            device = None
        if device is None:
            raise CommandError(no_demo_message("データベースにデモの職員がいません", Path.cwd()))
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():06d}")
