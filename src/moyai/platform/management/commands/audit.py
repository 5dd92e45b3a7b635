"""``moyai audit verify``: recompute every municipality's audit hash chain."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from moyai.platform.audit import audit_verify_chain
from moyai.platform.management.base import MunicipalityCommand


class Command(MunicipalityCommand):
    help = "監査ログのハッシュチェーンを検証します (verify the audit log's hash chain)."
    municipality_required = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["verify"])
        super().add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        failed = 0
        for m in self.municipalities(options):
            report = audit_verify_chain(municipality=m)
            if report.ok:
                self.stdout.write(
                    f"{m.code} {m.name}: OK {report.rows} 行  末尾ハッシュ {report.head_hash}"
                )
                continue
            failed += 1
            self.stdout.write(
                self.style.ERROR(
                    f"{m.code} {m.name}: 不整合 {len(report.problems)} 件（{report.rows} 行中）"
                )
            )
            for p in report.problems:
                row = f" 行ID {p.row_id}" if p.row_id is not None else ""
                self.stdout.write(self.style.ERROR(f"  連番 {p.seq}{row}: {p.reason}"))
        if failed:
            raise CommandError(f"監査ログの検証に失敗した団体: {failed}")
