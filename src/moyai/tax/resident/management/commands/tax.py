"""``moyai tax …``: 個人住民税 from the command line.

moyai tax import   -m CODE --year 2026 --kind salary FILE.csv [--dry-run] [--report OUT.csv]
moyai tax assess   -m CODE --year 2026 [--chunk 2000] [--resume KEY]
moyai tax notices  -m CODE --year 2026 OUT/      (納税通知書 and 特別徴収税額決定通知書 PDFs)
moyai tax simulate --year 2026 [-m CODE] FILE.json|-   (試算: prints the trace, stores nothing)
moyai tax sample-reports -m CODE --year 2026 OUT.csv   (synthetic 給与支払報告書; not production)
"""

from __future__ import annotations

import csv
import json
from argparse import ArgumentParser
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone
from tqdm import tqdm

from moyai.platform.errors import ServiceError
from moyai.platform.management.base import MunicipalityCommand
from moyai.platform.tenancy import tenant_context
from moyai.tax.common.cli import read_json_object
from moyai.tax.resident import rules, services
from moyai.tax.resident.models import Assessment, Collection, Employer

ACTIONS = ("import", "assess", "notices", "simulate", "sample-reports")


class Command(MunicipalityCommand):
    help = "個人住民税: 課税資料の取込み・賦課・通知書・試算。"
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

        imp = action("import", "支払報告書（CSV）を課税資料として登録", "CSV ファイル")
        imp.add_argument("--kind", choices=["salary", "pension"], default="salary")
        imp.add_argument("--dry-run", action="store_true", help="検査だけして登録しない")
        imp.add_argument("--report", type=Path, help="問題の一覧（CSV）の出力先")
        assess = action("assess", "賦課（1月1日現在の住民で課税資料のある人）")
        assess.add_argument("--chunk", type=int, default=2000, help="1回の処理人数")
        assess.add_argument("--resume", help="中断した賦課のジョブキー")
        assess.add_argument(
            "--workers", type=int, default=1, help="並行して計算するプロセスの数（人を分担）"
        )
        action("notices", "納税通知書・特別徴収税額決定通知書（PDF）", "出力先フォルダ")
        sim = action("simulate", "試算（何も記録しない）", "JSON ファイル（- で標準入力）")
        sim.add_argument("--json", action="store_true", help="結果を JSON で出力")
        sample = action("sample-reports", "架空の給与支払報告書（デモ用）", "出力ファイル")
        sample.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, "_" + action.replace("-", "_"))(options)
        except ServiceError as exc:
            raise CommandError(
                f"{exc.field}: {exc.message}" if exc.field else exc.message
            ) from None

    def _one(self, options: dict[str, Any]) -> Any:
        if not options.get("municipality"):
            raise CommandError("--municipality（団体コード）を指定してください")
        (municipality,) = self.municipalities(options)
        return municipality

    def _path(self, options: dict[str, Any]) -> Path:
        if not options["path"]:
            raise CommandError("ファイル（または出力先）を指定してください")
        return Path(options["path"])

    def _import(self, options: dict[str, Any]) -> None:
        municipality = self._one(options)
        path = self._path(options)
        if not path.is_file():
            raise CommandError(f"ファイルがありません: {path}")
        with path.open("rb") as stream, tenant_context(municipality):
            result = services.reports_import(
                fiscal_year=options["year"],
                kind=options["kind"],
                stream=stream,
                file_name=path.name,
                dry_run=options["dry_run"],
            )
        if options["report"]:
            with options["report"].open("w", encoding="utf-8-sig", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(["行", "列", "項目", "値", "理由", "重さ"])
                for p in result.problems:
                    writer.writerow([p.line, p.column or "", p.item, p.value, p.reason, p.severity])
            self.stdout.write(f"レポート: {options['report']}")
        errors = [p for p in result.problems if p.severity == "error"]
        warnings = [p for p in result.problems if p.severity != "error"]
        for p in errors[:50]:
            self.stdout.write(f"{path.name}:{p.line} {p.item} {p.value!r}: {p.reason}")
        if warnings:
            reasons = sorted({p.reason for p in warnings})
            self.stdout.write(f"警告 {len(warnings)} 件（{'、'.join(reasons[:3])}）")
        if not result.ok:
            raise CommandError(f"{len(errors)} 件の誤りがあるため登録しませんでした")
        counts = json.dumps(result.counts, ensure_ascii=False)
        self.stdout.write(
            f"{result.records} 件（特別徴収義務者 {result.employers}）名寄せ: {counts}"
        )
        self.stdout.write("検査のみ（登録していません）" if result.dry_run else "登録しました")

    def _assess(self, options: dict[str, Any]) -> None:
        municipality = self._one(options)
        if options["workers"] > 1:
            self._assess_parallel(municipality, options)
            return
        bar = tqdm(desc=f"{municipality.code} 賦課", unit="人", disable=options["verbosity"] < 1)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = services.assessment_run(
            municipality=municipality,
            fiscal_year=options["year"],
            chunk_size=options["chunk"],
            progress=progress,
            job_key=options["resume"],
        )
        bar.close()
        self.stdout.write(
            f"{rules.wareki_nendo(options['year'])}: 対象 {result.persons} 人、"
            f"賦課 {result.written} 件、変更なし {result.unchanged} 件、"
            f"1月1日に住民でない {result.not_resident} 人"
        )
        for person, field, message in result.problems[:50]:
            self.stdout.write(f"宛名 {person}: {field}: {message}")
        if result.job is not None:
            self.stdout.write(f"ジョブキー: {result.job.key}")

    def _assess_parallel(self, municipality: Any, options: dict[str, Any]) -> None:
        """Shards of one run in worker processes (each with its own database connection)."""
        from moyai.platform.management.processes import run_in_processes
        from moyai.tax.resident.models import Assessment

        n, year = options["workers"], options["year"]
        if not 2 <= n <= 32:
            raise CommandError("--workers は 1〜32 です")
        with tenant_context(municipality):
            services.parameters_in_force(fiscal_year=year)  # version 1 before the workers
            initial = not Assessment.objects.filter(fiscal_year=year).exists()
        key = options["resume"] or f"resident_tax.assess:{year}:{timezone.now().isoformat()}"
        self.stdout.write(f"ジョブキー: {key}（各プロセスは {key}:i/{n}）")
        jobs = [(municipality.code, year, options["chunk"], key, (i, n), initial) for i in range(n)]
        parts = run_in_processes(_run_shard, jobs)
        persons = sum(p[0] for p in parts)
        written = sum(p[1] for p in parts)
        unchanged = sum(p[2] for p in parts)
        not_resident = sum(p[3] for p in parts)
        self.stdout.write(
            f"{rules.wareki_nendo(year)}: 対象 {persons} 人、賦課 {written} 件、"
            f"変更なし {unchanged} 件、1月1日に住民でない {not_resident} 人（{n} プロセス）"
        )
        for part in parts:
            for person, field, message in part[4][:50]:
                self.stdout.write(f"宛名 {person}: {field}: {message}")

    def _notices(self, options: dict[str, Any]) -> None:
        municipality = self._one(options)
        out = self._path(options)
        out.mkdir(parents=True, exist_ok=True)
        year = options["year"]
        written = 0
        with tenant_context(municipality):
            employers = Employer.objects.filter(
                pk__in=Assessment.objects.filter(
                    fiscal_year=year, is_current=True, collection=Collection.SPECIAL
                ).values("employer_id")
            ).order_by("designation_number")
            for employer in employers:
                issued = services.special_notice_issue(
                    employer_id=employer.pk, fiscal_year=year, purpose="特別徴収税額の決定通知"
                )
                (out / f"特別徴収_{employer.designation_number}.pdf").write_bytes(issued.pdf)
                written += 1
            persons = Assessment.objects.filter(
                fiscal_year=year, is_current=True, collection=Collection.ORDINARY
            ).values_list("person_id", "person__address_number")
            for person_id, number in persons:
                issued = services.tax_notice_issue(
                    person_id=person_id, fiscal_year=year, purpose="納税通知書の発送"
                )
                (out / f"納税通知書_{number}.pdf").write_bytes(issued.pdf)
                written += 1
        self.stdout.write(f"{out} に {written} 通を出力しました")

    def _simulate(self, options: dict[str, Any]) -> None:
        data = read_json_object(options["path"])
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
        self.stdout.write(f"年税額 {outcome.total:,} 円（{outcome.exemption.label}）")

    def _sample_reports(self, options: dict[str, Any]) -> None:
        if settings.ENV == "production":
            raise CommandError("本番環境では架空の課税資料を作成できません")
        municipality = self._one(options)
        out = self._path(options)
        from moyai.tax.resident.synthetic import demo_employees, salary_file

        year = options["year"]
        with tenant_context(municipality):
            employees = demo_employees(on=date(year, 1, 1), seed=options["seed"])
        out.write_bytes(
            salary_file(
                employees,
                income_year=year - 1,
                municipality_code=municipality.code,
                seed=options["seed"],
            )
        )
        self.stdout.write(f"{out}: 給与支払報告書 {len(employees)} 件")


def _run_shard(
    code: str, year: int, chunk: int, key: str, shard: tuple[int, int], initial: bool
) -> tuple[int, int, int, int, list[tuple[int, str, str]]]:
    """One shard of a parallel run (in a worker process)."""
    from moyai.platform.audit import acting_as
    from moyai.platform.management.base import cli_actor
    from moyai.platform.models import Municipality

    municipality = Municipality.objects.get(code=code)
    with acting_as(cli_actor(municipality)):
        result = services.assessment_run(
            municipality=municipality,
            fiscal_year=year,
            chunk_size=chunk,
            job_key=key,
            shard=shard,
            initial=initial,
        )
    return result.persons, result.written, result.unchanged, result.not_resident, result.problems
