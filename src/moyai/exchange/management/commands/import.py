"""``moyai import -m CODE IN/ [--dry-run] [--report DIR]``: load the standard layout."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from moyai.exchange.report import write_report
from moyai.exchange.services import import_tenant
from moyai.platform.management.base import MunicipalityCommand


class Command(MunicipalityCommand):
    help = "標準レイアウトのデータを空の団体に取り込みます（--dry-run で検証のみ）。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("directory", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="検証だけして取り込まない")
        parser.add_argument("--report", type=Path, help="検証レポート（CSV・HTML）の出力先")
        parser.add_argument("--purpose", default="データの取込み（移行）")

    def handle(self, *args: Any, **options: Any) -> None:
        (municipality,) = self.municipalities(options)
        report = import_tenant(
            municipality=municipality,
            directory=options["directory"],
            dry_run=options["dry_run"],
            purpose=options["purpose"],
        )
        if options["report"]:
            for path in write_report(report, options["report"]):
                self.stdout.write(f"レポート: {path}")
        for p in report.problems[:50]:
            self.stdout.write(f"{p.file}:{p.line} {p.field} {p.value!r}: {p.reason}")
        self.stdout.write(
            "件数（ファイル）: " + json.dumps(report.source_counts, ensure_ascii=False)
        )
        if report.written:
            self.stdout.write(
                "件数（取込後）: " + json.dumps(report.imported_counts, ensure_ascii=False)
            )
        if not report.ok:
            raise CommandError(f"{len(report.problems)} 件の問題があるため取り込みませんでした")
        self.stdout.write("検証のみ（取り込んでいません）" if report.dry_run else "取り込みました")
