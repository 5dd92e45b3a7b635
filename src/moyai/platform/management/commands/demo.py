"""``moyai demo``: migrate the SQLite database, create the demo 協議会, print logins, serve."""

from __future__ import annotations

import base64
import signal
import subprocess
import sys
from argparse import ArgumentParser
from typing import Any

import segno
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from moyai.platform.demo import seed_demo


def _migrations_pending() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Command(BaseCommand):
    help = (
        "デモ環境を作成して起動します（既定 http://127.0.0.1:8000/、--addr で変更）"
        " (create the demo and serve it; --addr to choose the address)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--addr",
            default="127.0.0.1:8000",
            help="待ち受けるアドレスとポート（既定 127.0.0.1:8000。例: 127.0.0.1:8765）",
        )
        parser.add_argument("--no-serve", action="store_true", help="作成だけして起動しない")
        parser.add_argument(
            "--persons", type=int, default=300, help="各団体の架空の住民数（初回作成時）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ENV == "production":
            raise CommandError("moyai demo は MOYAI_ENV=demo で実行してください")
        if _migrations_pending():
            call_command("migrate", verbosity=0, interactive=False)
        seed = seed_demo(persons=options["persons"])
        secret = base64.b32encode(bytes.fromhex(seed.totp_key_hex)).decode().rstrip("=")
        uri = f"otpauth://totp/moyai:demo?secret={secret}&issuer=moyai"
        out = self.stdout
        out.write("")
        out.write("=" * 72)
        out.write(f" moyai デモ  http://{options['addr']}/")
        out.write("=" * 72)
        if seed.created:
            out.write(f" パスワード（全デモ職員共通）: {seed.password}")
            (settings.DATA_DIR / "demo-password.txt").write_text(seed.password + "\n")
        else:
            out.write(f" パスワード: {settings.DATA_DIR / 'demo-password.txt'} を参照")
        out.write(f" 確認コード: 認証アプリに次の鍵を登録（全デモ職員共通） {secret}")
        out.write("            または `moyai demo_code` で現在のコードを表示")
        out.write(" ログイン名:")
        for login in seed.logins:
            out.write(f"   {login.username:<24} {login.municipality} {login.roles}{login.note}")
        out.write("=" * 72)
        try:
            segno.make(uri).terminal(out=sys.stdout, compact=True)
        except (OSError, ValueError):
            out.write(f" {uri}")  # no terminal for the QR code: print the URI
        if not options["no_serve"]:
            # The background worker (賦課 and other long jobs started from the screens) runs
            # beside the demo server and stops with it.
            worker = subprocess.Popen(
                [sys.executable, "-m", "moyai", "worker"], stdout=subprocess.DEVNULL
            )
            out.write(" バックグラウンド処理（moyai worker）も起動しました")
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so that `finally` runs
            try:
                call_command("runserver", options["addr"], "--insecure", "--noreload")
            finally:
                worker.terminate()
                worker.wait(timeout=10)
