"""``moyai legacy_import -m CODE --mapping vendor.toml IN/ [--dry-run] [--report DIR]``."""

from __future__ import annotations

import json
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from moyai.exchange.legacy import MappingError
from moyai.exchange.report import write_report
from moyai.exchange.services import ImportReport, legacy_import
from moyai.platform.management.base import MunicipalityCommand


class Command(MunicipalityCommand):
    help = "旧システムのファイルをマッピングファイルに従って検証・取込みします。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("directory", type=Path, help="旧システムのファイルがあるフォルダ")
        parser.add_argument(
            "--mapping", type=Path, required=True, help="マッピングファイル（TOML）"
        )
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--report", type=Path, help="検証レポート（CSV・HTML）の出力先")
        parser.add_argument(
            "--keep-package", type=Path, help="変換した標準レイアウトをこのフォルダに残す"
        )
        parser.add_argument("--purpose", default="旧システムからのデータ移行")

    def handle(self, *args: Any, **options: Any) -> None:
        (municipality,) = self.municipalities(options)
        with tempfile.TemporaryDirectory() as tmp:
            work = options["keep_package"] or Path(tmp) / "package"
            try:
                result = legacy_import(
                    municipality=municipality,
                    mapping_path=options["mapping"],
                    directory=options["directory"],
                    workdir=work,
                    dry_run=options["dry_run"],
                    purpose=options["purpose"],
                )
            except MappingError as exc:
                raise CommandError(f"マッピングファイル: {exc}") from None
        report = result.report or ImportReport(
            municipality.code, options["dry_run"], problems=result.conversion_problems
        )
        if options["report"]:
            for path in write_report(report, options["report"]):
                self.stdout.write(f"レポート: {path}")
        for p in report.problems[:50]:
            self.stdout.write(f"{p.file}:{p.line} {p.field} {p.value!r}: {p.reason}")
        for warning in result.duplicates:
            self.stdout.write(f"確認: {warning}")
        if result.queued:
            self.stdout.write(
                f"外字の同定待ちに {result.queued} 件登録しました（画面: 外字の同定）"
            )
        if report.source_counts:
            self.stdout.write("件数: " + json.dumps(report.source_counts, ensure_ascii=False))
        if not report.ok:
            raise CommandError(
                f"{len(report.problems)} 件の問題（外字の未同定を含む）があるため"
                "取り込みませんでした"
            )
        self.stdout.write(
            "検証のみ（取り込んでいません）" if options["dry_run"] else "取り込みました"
        )
