"""``moyai restore -m CODE --at TIMESTAMP``: one municipality back to a point in time."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from moyai.operations.backup import services
from moyai.operations.backup.keys import BackupKeyError
from moyai.operations.backup.locks import TenantBusy
from moyai.platform.audit import acting_as
from moyai.platform.errors import ServiceError
from moyai.platform.management.base import cli_actor


def parse_at(text: str) -> datetime:
    """ISO 8601 日時; without an offset it is read in the deployment's time zone (JST)."""
    value = parse_datetime(text.strip())
    if value is None:
        raise CommandError(f"--at: 日時を読めません（例 2026-11-30T02:00:00+09:00）: {text}")
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


class Command(BaseCommand):
    help = (
        "団体を指定日時以前の最新のバックアップの状態に戻します（他の団体には触れません）。"
        "団体がこの環境にないときは作成して復元します。"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--municipality", "-m", metavar="CODE", required=True)
        parser.add_argument("--at", help="この日時の状態（ISO 8601）。省略時は最新")
        parser.add_argument("--snapshot", help="スナップショットの識別子で指定")
        parser.add_argument("--source", type=int, default=0, help="読む保存先（0 = 最初）")
        parser.add_argument("--yes", action="store_true", help="確認なしで実行")
        parser.add_argument(
            "--drop-removed-columns",
            action="store_true",
            help=(
                "バックアップの後の移行で削除された列があっても戻す（その列のデータは失われます。"
                "どの列かは注意として表示し、監査ログに記録します）"
            ),
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="同じ団体のバックアップ等が実行中なら、この秒数まで待つ（既定: 待たずに中止）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        at = parse_at(options["at"]) if options["at"] else None
        if not options["yes"]:
            raise CommandError(
                f"団体 {options['municipality']} の現在のデータを置き換えます。"
                "よければ --yes を付けて実行してください"
            )
        try:
            with acting_as(cli_actor()):
                result = services.restore_tenant(
                    municipality_code=options["municipality"],
                    at=at,
                    snapshot=options["snapshot"],
                    source=options["source"],
                    wait=options["wait"],
                    drop_removed_columns=options["drop_removed_columns"],
                )
        except TenantBusy as exc:
            raise CommandError(f"{exc.message}（--wait 秒数 で待てます）") from None
        except (ServiceError, BackupKeyError) as exc:
            raise CommandError(str(exc)) from None
        for warning in result.warnings:
            self.stderr.write(f"注意: {warning}")
        self.stdout.write(
            f"{options['municipality']} を {result.snapshot_id}"
            f"（{timezone.localtime(result.taken_at).isoformat()}）の状態に戻しました: "
            f"削除 {sum(result.deleted.values())} 行、復元 {sum(result.inserted.values())} 行"
            f"（監査ログは既存 {result.audit_rows_kept} 行を保持）"
        )
