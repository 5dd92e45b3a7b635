"""``moyai export -m CODE OUT/ [--with-my-number]``: a tenant in the standard layout."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from moyai.exchange.selectors import export_tenant
from moyai.platform.management.base import MunicipalityCommand


class Command(MunicipalityCommand):
    help = "団体のデータを標準レイアウトで出力します（移行・バックアップ・連携用）。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("directory", type=Path, help="出力先（空のフォルダ）")
        parser.add_argument(
            "--with-my-number",
            action="store_true",
            help="個人番号を平文で含める（出力先の管理に注意）",
        )
        parser.add_argument("--purpose", default="データの出力（移行・保存）")

    def handle(self, *args: Any, **options: Any) -> None:
        (municipality,) = self.municipalities(options)
        try:
            result = export_tenant(
                municipality=municipality,
                directory=options["directory"],
                with_my_number=options["with_my_number"],
                purpose=options["purpose"],
            )
        except FileExistsError as exc:
            raise CommandError(str(exc)) from None
        for name, info in result.manifest["files"].items():
            self.stdout.write(f"{name}: {info['rows']} 行  sha256 {info['sha256']}")
        self.stdout.write(f"出力しました: {result.directory}")
