"""``moyai billing …``: 割り勘 from the command line (operator).

moyai billing allocate   --council NAME --month 2027-04 [--close]   (按分: 仮計算, then 確定)
moyai billing close      --council NAME --month 2027-04             (確定: here, not in a task)
moyai billing statements --council NAME --month 2027-04 OUT/        (CSV per member; PDF if 確定)

The command closes a month in the foreground (request and work in one transaction), where the
screen only asks for the close and a background task does it. ``close`` also finishes a close
requested on the screen whose task stopped or was lost: it continues where the task stopped.
moyai billing simulate   SCENARIO.toml|- [--csv] [--svg OUT.svg]    (10年シミュレーション)
"""

from __future__ import annotations

import re
import sys
from argparse import ArgumentParser
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from moyai.operations.billing import rules, selectors, services
from moyai.operations.billing.chart import effect_chart_svg
from moyai.operations.billing.models import AllocationRun, RunStatus
from moyai.platform.errors import ServiceError
from moyai.platform.management.base import MunicipalityCommand
from moyai.platform.models import Council, Municipality


def _month(text: str) -> date:
    m = re.match(r"^(\d{4})-(\d{1,2})$", text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise CommandError(f"--month: 年月を 2027-04 の形で指定してください（{text}）")
    return date(int(m.group(1)), int(m.group(2)), 1)


class Command(MunicipalityCommand):
    help = "割り勘: 月次の按分・請求明細・10年シミュレーション。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        allocate = actions.add_parser("allocate", help="月次の按分（仮計算。--close で確定）")
        close = actions.add_parser("close", help="月次の確定（依頼済みで止まった確定の続きも）")
        statements = actions.add_parser("statements", help="構成団体ごとの請求明細（CSV・PDF）")
        for sub in (allocate, close, statements):
            sub.add_argument("--council", required=True, help="協議会名")
            sub.add_argument("--month", required=True, help="対象月（例: 2027-04）")
        allocate.add_argument("--close", action="store_true", help="計算後に確定し明細書を発行")
        statements.add_argument("out", help="出力先フォルダ")
        simulate = actions.add_parser("simulate", help="10年間のシミュレーション（記録しない）")
        simulate.add_argument("scenario", help="シナリオ（TOML、- で標準入力）")
        simulate.add_argument("--csv", action="store_true", help="年度×団体の CSV を出力")
        simulate.add_argument("--svg", help="割り勘効果の図（SVG）の出力先")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"])(options)
        except ServiceError as exc:
            raise CommandError(
                f"{exc.field}: {exc.message}" if exc.field else exc.message
            ) from None

    def _council(self, name: str) -> Council:
        council = Council.objects.filter(name=name).first()
        if council is None:
            raise CommandError(f"協議会「{name}」は登録されていません")
        return council

    def _allocate(self, options: dict[str, Any]) -> None:
        council = self._council(options["council"])
        run = services.allocation_run(council=council, month=_month(options["month"]))
        if options["close"]:
            run = services.allocation_close(run=run)
        matrix = selectors.run_matrix(run)
        for m in matrix.members:
            self.stdout.write(f"{m['code']} {m['name']}\t{m['total']:>14,} 円")
        self.stdout.write(
            f"合計\t{run.total:>14,} 円（{run.get_status_display()}、{len(matrix.members)}団体）"
        )

    def _close(self, options: dict[str, Any]) -> None:
        council = self._council(options["council"])
        run = AllocationRun.objects.filter(council=council, month=_month(options["month"])).first()
        if run is None:
            raise CommandError(f"{options['month']} の按分はまだ計算していません")
        if run.status == RunStatus.CLOSING:
            run = services.allocation_close_resume(run_id=run.pk)
        else:
            run = services.allocation_close(run=run)
        self.stdout.write(
            f"{services.month_label(run.month)}分を確定しました（請求明細書 {run.close_issued}件）"
        )

    def _statements(self, options: dict[str, Any]) -> None:
        council = self._council(options["council"])
        month = _month(options["month"])
        run = AllocationRun.objects.filter(council=council, month=month).first()
        if run is None:
            raise CommandError(f"{options['month']} の按分はまだ計算していません")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        written = 0
        codes = [m["code"] for m in run.inputs.get("members", [])]
        for municipality in Municipality.objects.filter(code__in=codes).order_by("code"):
            statement = selectors.statement_of(run=run, municipality=municipality, csv=True)
            if statement is None:
                continue
            stem = f"{municipality.code}_{month:%Y-%m}"
            (out / f"{stem}.csv").write_bytes(
                selectors.statement_csv(statement=statement, municipality=municipality)
            )
            written += 1
            if run.status == RunStatus.CLOSED and statement.document_serial:
                (out / f"{stem}.pdf").write_bytes(
                    selectors.statement_pdf(municipality=municipality, statement=statement)
                )
                written += 1
        self.stdout.write(f"{written} ファイルを {out} に出力しました")

    def _simulate(self, options: dict[str, Any]) -> None:
        path = options["scenario"]
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        result = rules.simulate(services.scenario_parse(text=text))
        if options["svg"]:
            Path(options["svg"]).write_text(effect_chart_svg(result), encoding="utf-8")
        if options["csv"]:
            self.stdout.write(selectors.simulation_csv(result).decode("utf-8"), ending="")
            return
        for y in result.years:
            self.stdout.write(
                f"{y.year}年度\t{len(y.members):>2}団体\t合計 {y.total:>14,} 円\t"
                f"平均 {y.average:>12,} 円"
            )
        self.stdout.write("割り勘効果（1団体あたり年間運用費）:")
        for n, cost in result.curve:
            cut = rules.reduction_percent(cost, result.standalone)
            self.stdout.write(f"  {n:>2}団体\t{cost:>12,} 円\t単独比 {float(cut):5.1f}% 減")
