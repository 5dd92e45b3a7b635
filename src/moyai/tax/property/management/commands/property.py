"""``moyai property …``: 固定資産税 from the command line.

moyai property assess   -m CODE --year 2026 [--chunk 2000] [--resume KEY]
moyai property notices  -m CODE --year 2026 OUT/   (納税通知書・課税明細書 PDFs)
moyai property simulate --year 2026 [-m CODE] FILE.json|-   (試算: prints the trace, stores nothing)
moyai property sample-ledger -m CODE --year 2026 [--seed 1]   (synthetic ledger; not production)
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from moyai.platform.errors import ServiceError
from moyai.platform.management.base import MunicipalityCommand
from moyai.platform.tenancy import tenant_context
from moyai.tax.property import services
from moyai.tax.property.models import PropertyTaxAssessment
from moyai.tax.resident.rules import wareki_nendo


class Command(MunicipalityCommand):
    help = "固定資産税: 賦課・納税通知書・試算・架空の課税台帳。"
    municipality_required = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        def action(name: str, help_text: str, path: str | None = None) -> ArgumentParser:
            sub = actions.add_parser(name, help=help_text)
            if path:
                sub.add_argument("path", help=path)
            sub.add_argument("--municipality", "-m", metavar="CODE", help="団体コード（6桁）")
            sub.add_argument("--year", type=int, required=True, help="年度（西暦、例: 2026）")
            return sub

        assess = action("assess", "賦課（1月1日現在の課税台帳の納税義務者ごと）")
        assess.add_argument("--chunk", type=int, default=2000, help="1回の処理人数")
        assess.add_argument("--resume", help="中断した賦課のジョブキー")
        action("notices", "納税通知書・課税明細書（PDF）", "出力先フォルダ")
        sim = action("simulate", "試算（何も記録しない）", "JSON ファイル（- で標準入力）")
        sim.add_argument("--json", action="store_true", help="結果を JSON で出力")
        sample = action("sample-ledger", "架空の課税台帳（デモ用）")
        sample.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except ServiceError as exc:
            raise CommandError(
                f"{exc.field}: {exc.message}" if exc.field else exc.message
            ) from None

    def _one(self, options: dict[str, Any]) -> Any:
        if not options.get("municipality"):
            raise CommandError("--municipality（団体コード）を指定してください")
        (municipality,) = self.municipalities(options)
        return municipality

    def _assess(self, options: dict[str, Any]) -> None:
        municipality = self._one(options)
        result = services.assessment_run(
            municipality=municipality,
            fiscal_year=options["year"],
            chunk_size=options["chunk"],
            job_key=options["resume"],
        )
        self.stdout.write(
            f"{wareki_nendo(options['year'])}: 納税義務者 {result.owners} 人、"
            f"賦課 {result.written} 件、変更なし {result.unchanged} 件"
        )
        for owner, field, message in result.problems[:50]:
            self.stdout.write(f"宛名 {owner}: {field}: {message}")
        if result.job is not None:
            self.stdout.write(f"ジョブキー: {result.job.key}")

    def _notices(self, options: dict[str, Any]) -> None:
        municipality = self._one(options)
        if not options["path"]:
            raise CommandError("出力先フォルダを指定してください")
        out = Path(options["path"])
        out.mkdir(parents=True, exist_ok=True)
        year = options["year"]
        written = 0
        with tenant_context(municipality):
            owners = PropertyTaxAssessment.objects.filter(
                fiscal_year=year, is_current=True, total__gt=0
            ).values_list("owner_id", "owner__number")
            for owner_id, number in owners:
                issued = services.tax_notice_issue(
                    owner_id=owner_id, fiscal_year=year, purpose="納税通知書の発送"
                )
                (out / f"固定資産税_納税通知書_{number}.pdf").write_bytes(issued.pdf)
                written += 1
        self.stdout.write(f"{out} に {written} 通を出力しました")

    def _simulate(self, options: dict[str, Any]) -> None:
        source = options["path"]
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text("utf-8")
            data = json.loads(text)
        except (OSError, ValueError) as exc:
            raise CommandError(f"JSON を読めません: {exc}") from None
        if not isinstance(data, dict):
            raise CommandError("JSON はオブジェクト（{…}）で指定してください")
        municipality = self._one(options) if options.get("municipality") else None
        outcome = services.simulate(
            fiscal_year=options["year"], data=data, municipality=municipality
        )
        if options["json"]:
            self.stdout.write(json.dumps(services.outcome_dict(outcome), ensure_ascii=False))
            return
        for step in outcome.trace:
            amount = f"{step.amount:>12,}" if step.amount or step.basis else " " * 12
            self.stdout.write(f"{step.label:<28} {amount}  {step.basis}")
        self.stdout.write(
            f"固定資産税 {outcome.fixed_asset_tax:,} 円・都市計画税 "
            f"{outcome.city_planning_tax:,} 円（合計 {outcome.total_tax:,} 円）"
        )

    def _sample_ledger(self, options: dict[str, Any]) -> None:
        if settings.ENV == "production":
            raise CommandError("本番環境では架空の課税台帳を作成できません")
        municipality = self._one(options)
        from moyai.tax.property.synthetic import seed_ledger

        with tenant_context(municipality):
            seeded = seed_ledger(fiscal_year=options["year"], seed=options["seed"])
        self.stdout.write(
            f"所有者 {seeded.owners}・土地 {seeded.parcels}・家屋 {seeded.buildings}・"
            f"償却資産 {seeded.declarations} を登録しました"
        )
