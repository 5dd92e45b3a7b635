"""``moyai light_vehicle …``: 軽自動車税（種別割） from the command line.

moyai light_vehicle assess   -m CODE --year 2026 [--chunk 2000] [--resume KEY]
moyai light_vehicle notices  -m CODE --year 2026 OUT/
moyai light_vehicle simulate --year 2026 [-m CODE] FILE.json|-   ({"vehicle": {…}, "exemption": …})
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from moyai.platform.errors import ServiceError
from moyai.platform.management.base import MunicipalityCommand
from moyai.platform.tenancy import tenant_context
from moyai.tax.addressees.models import Addressee
from moyai.tax.common.cli import read_json_object
from moyai.tax.light_vehicle import services
from moyai.tax.resident.rules import wareki_nendo


class Command(MunicipalityCommand):
    help = "軽自動車税（種別割）: 賦課・納税通知書・試算。"
    municipality_required = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        for name, help_text, path in (
            ("assess", "賦課（4月1日現在の車両）", None),
            ("notices", "納税通知書（PDF）", "出力先フォルダ"),
            ("simulate", "試算（何も記録しない）", "JSON ファイル（- で標準入力）"),
        ):
            sub = actions.add_parser(name, help=help_text)
            if path:
                sub.add_argument("path", help=path)
            sub.add_argument("--municipality", "-m", metavar="CODE", help="団体コード（6桁）")
            sub.add_argument("--year", type=int, required=True, help="年度（西暦、例: 2026）")
            if name == "simulate":
                sub.add_argument("--json", action="store_true", help="結果を JSON で出力")
            if name == "assess":
                sub.add_argument("--chunk", type=int, default=2000, help="1回の処理台数")
                sub.add_argument("--resume", help="中断した賦課のジョブキー")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"])(options)
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
        result = services.assessment_run(
            municipality=self._one(options),
            fiscal_year=options["year"],
            chunk_size=options["chunk"],
            job_key=options["resume"],
        )
        self.stdout.write(
            f"{wareki_nendo(options['year'])}: 車両 {result.vehicles} 台、"
            f"賦課 {result.written} 件、"
            f"変更なし {result.unchanged} 件"
        )
        for plate, field, message in result.problems[:50]:
            self.stdout.write(f"{plate}: {field}: {message}")
        if result.job is not None:
            self.stdout.write(f"ジョブキー: {result.job.key}")

    def _notices(self, options: dict[str, Any]) -> None:
        municipality = self._one(options)
        out = Path(options["path"])
        out.mkdir(parents=True, exist_ok=True)
        written = 0
        with tenant_context(municipality):
            for owner_id in services.owners_with_tax(options["year"]):
                issued = services.tax_notice_issue(
                    owner_id=owner_id, fiscal_year=options["year"], purpose="納税通知書の発送"
                )
                number = Addressee.objects.get(pk=owner_id).number
                (out / f"軽自動車税_納税通知書_{number}.pdf").write_bytes(issued.pdf)
                written += 1
        self.stdout.write(f"{out} に {written} 通を出力しました")

    def _simulate(self, options: dict[str, Any]) -> None:
        data = read_json_object(options["path"])
        if "vehicle" not in data:
            data = {"vehicle": data}
        municipality = self._one(options) if options.get("municipality") else None
        outcome = services.simulate(
            fiscal_year=options["year"], data=data, municipality=municipality
        )
        if options["json"]:
            self.stdout.write(json.dumps(services.outcome_dict(outcome), ensure_ascii=False))
            return
        for step in outcome.trace:
            self.stdout.write(f"{step.label:<28} {step.amount:>10,}  {step.basis}")
        self.stdout.write(f"税額 {outcome.tax:,} 円（{outcome.rate_kind}）")
