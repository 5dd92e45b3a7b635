"""``moyai property …``: 固定資産税 from the command line.

moyai property assess   -m CODE --year 2026 [--chunk 2000] [--resume KEY] [--workers N]
moyai property notices  -m CODE --year 2026 OUT/   (納税通知書・課税明細書 PDFs)
moyai property simulate --year 2026 [-m CODE] FILE.json|-   (試算: prints the trace, stores nothing)
moyai property sample-ledger -m CODE --year 2026 [--seed 1]   (synthetic ledger; not production)

課税台帳の登録と異動（所有者は --owner 宛名番号、または --co-owner 宛名番号:持分 を2つ以上と
--representative 宛名番号）:

moyai property parcel-add   -m CODE --owner T… --location 一色 --lot 1-1 --land-use 宅地
                            --area 300 --value 15000000 [--small 200 --general 100] --on 2025-06-01
moyai property building-add -m CODE --owner T… --location 一色 --house-number 1番 --kind 居宅
                            --structure 木造 --floor-area 120 --built 2025 --value 9000000
                            [--completed-on 2025-06-30] --on 2025-06-30
moyai property transfer     -m CODE (--parcel ID | --building ID) --owner T… --on D --note 売買
moyai property demolish     -m CODE --building ID --on D --note 取壊し
moyai property assets       -m CODE --owner T… --year 2026 --base 3000000 --on 2026-01-31
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from moyai.platform.errors import ServiceError
from moyai.platform.management.base import MunicipalityCommand
from moyai.platform.tenancy import tenant_context
from moyai.tax.addressees.services import OwnerSpec, owner_resolve
from moyai.tax.common.cli import read_json_object
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
        assess.add_argument(
            "--workers", type=int, default=1, help="並行して処理するプロセス数（1〜32）"
        )
        action("notices", "納税通知書・課税明細書（PDF）", "出力先フォルダ")
        sim = action("simulate", "試算（何も記録しない）", "JSON ファイル（- で標準入力）")
        sim.add_argument("--json", action="store_true", help="結果を JSON で出力")
        sample = action("sample-ledger", "架空の課税台帳（デモ用）")
        sample.add_argument("--seed", type=int, default=1)

        def ledger(name: str, help_text: str, owner: bool = True) -> ArgumentParser:
            sub = actions.add_parser(name, help=help_text)
            sub.add_argument("--municipality", "-m", metavar="CODE", help="団体コード（6桁）")
            sub.add_argument("--on", type=date.fromisoformat, required=True, help="異動日")
            if owner:
                sub.add_argument("--owner", default="", help="所有者の税務宛名番号")
                sub.add_argument(
                    "--co-owner",
                    action="append",
                    default=[],
                    metavar="T…:1/2",
                    help="共有者の税務宛名番号と持分（2つ以上）",
                )
                sub.add_argument("--representative", default="", help="共有の代表者の宛名番号")
            return sub

        parcel = ledger("parcel-add", "土地の登録")
        parcel.add_argument("--location", required=True, help="所在")
        parcel.add_argument("--lot", required=True, help="地番")
        parcel.add_argument("--land-use", required=True, help="地目（宅地・田・畑 …）")
        parcel.add_argument("--area", required=True, help="地積（㎡）")
        parcel.add_argument("--value", type=int, required=True, help="評価額（円）")
        parcel.add_argument("--small", help="小規模住宅用地（㎡）")
        parcel.add_argument("--general", help="一般住宅用地（㎡）")
        parcel.add_argument("--note", default="新規登録", help="異動の内容")
        house = ledger("building-add", "家屋の登録")
        house.add_argument("--location", required=True, help="所在")
        house.add_argument("--house-number", required=True, help="家屋番号")
        house.add_argument("--kind", required=True, help="種類（居宅・店舗 …）")
        house.add_argument("--structure", required=True, help="構造（木造 …）")
        house.add_argument("--floor-area", required=True, help="床面積（㎡）")
        house.add_argument("--built", type=int, required=True, help="建築年（西暦）")
        house.add_argument("--value", type=int, required=True, help="評価額（円）")
        house.add_argument("--completed-on", type=date.fromisoformat, help="新築年月日")
        house.add_argument("--note", default="新築", help="異動の内容")
        transfer = ledger("transfer", "所有権移転（土地または家屋）")
        which = transfer.add_mutually_exclusive_group(required=True)
        which.add_argument("--parcel", type=int, help="土地の行の番号")
        which.add_argument("--building", type=int, help="家屋の行の番号")
        transfer.add_argument("--note", required=True, help="登記の原因など")
        demolish = ledger("demolish", "家屋の滅失", owner=False)
        demolish.add_argument("--building", type=int, required=True, help="家屋の行の番号")
        demolish.add_argument("--note", required=True, help="取壊し・焼失など")
        assets = ledger("assets", "償却資産の申告（課税標準額の合計）")
        assets.add_argument("--year", type=int, required=True, help="年度（西暦）")
        assets.add_argument("--base", type=int, required=True, help="課税標準額の合計（円）")
        assets.add_argument("--note", default="", help="備考")

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
        if options["workers"] != 1:
            self._assess_parallel(municipality, options)
            return
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

    def _owner_spec(self, options: dict[str, Any]) -> OwnerSpec:
        shares = []
        for text in options["co_owner"]:
            number, _, share = text.partition(":")
            if not share:
                raise CommandError(f"--co-owner は 宛名番号:持分 で指定してください: {text}")
            shares.append((number, share))
        return OwnerSpec(
            number=options["owner"], shares=tuple(shares), representative=options["representative"]
        )

    def _parcel_add(self, options: dict[str, Any]) -> None:
        municipality = self._one(options)
        with tenant_context(municipality):
            row = services.parcel_register(
                owner=self._owner_spec(options),
                facts=services.ParcelFacts(
                    location=options["location"],
                    lot_number=options["lot"],
                    land_use=options["land_use"],
                    area_m2=options["area"],
                    assessed_value=options["value"],
                    small_residential_m2=options["small"],
                    general_residential_m2=options["general"],
                ),
                changed_on=options["on"],
                note=options["note"],
            )
            self.stdout.write(
                f"土地 {row}（行 {row.pk}）を {row.owner.number} で登録しました"
                f"（{wareki_nendo(row.valid_from)}から）"
            )

    def _building_add(self, options: dict[str, Any]) -> None:
        municipality = self._one(options)
        with tenant_context(municipality):
            row = services.building_register(
                owner=self._owner_spec(options),
                facts=services.BuildingFacts(
                    location=options["location"],
                    house_number=options["house_number"],
                    house_kind=options["kind"],
                    structure=options["structure"],
                    floor_area_m2=options["floor_area"],
                    assessed_value=options["value"],
                    built_year=options["built"],
                    completed_on=options["completed_on"],
                ),
                changed_on=options["on"],
                note=options["note"],
            )
            self.stdout.write(
                f"家屋 {row}（行 {row.pk}）を {row.owner.number} で登録しました"
                f"（{wareki_nendo(row.valid_from)}から）"
            )

    def _transfer(self, options: dict[str, Any]) -> None:
        municipality = self._one(options)
        spec = self._owner_spec(options)
        with tenant_context(municipality):
            row: Any
            if options["parcel"]:
                row = services.parcel_transfer(
                    parcel_id=options["parcel"],
                    owner=spec,
                    changed_on=options["on"],
                    note=options["note"],
                )
            else:
                row = services.building_transfer(
                    building_id=options["building"],
                    owner=spec,
                    changed_on=options["on"],
                    note=options["note"],
                )
            self.stdout.write(
                f"{row}（行 {row.pk}）の所有者を {row.owner.number} にしました"
                f"（{wareki_nendo(row.valid_from)}から）"
            )

    def _demolish(self, options: dict[str, Any]) -> None:
        municipality = self._one(options)
        with tenant_context(municipality):
            row = services.building_demolish(
                building_id=options["building"], changed_on=options["on"], note=options["note"]
            )
            self.stdout.write(
                f"{row} の滅失を登録しました（{wareki_nendo(row.valid_to or 0)}から）"
            )

    def _assets(self, options: dict[str, Any]) -> None:
        municipality = self._one(options)
        spec = self._owner_spec(options)
        with tenant_context(municipality):
            owner = owner_resolve(spec=spec)
            row = services.assets_declare(
                owner_id=owner.pk,
                fiscal_year=options["year"],
                declared_base=options["base"],
                declared_on=options["on"],
                note=options["note"],
            )
            self.stdout.write(
                f"{owner.number} の償却資産の申告を登録しました（{wareki_nendo(row.fiscal_year)}・"
                f"履歴番号 {row.seq}）"
            )

    def _assess_parallel(self, municipality: Any, options: dict[str, Any]) -> None:
        """Shards of one run in worker processes (each with its own database connection)."""
        from django.utils import timezone

        from moyai.platform.management.processes import run_in_processes

        n, year = options["workers"], options["year"]
        if not 2 <= n <= 32:
            raise CommandError("--workers は 1〜32 です")
        with tenant_context(municipality):
            services.parameters_in_force(fiscal_year=year)  # version 1 before the workers
            initial = not PropertyTaxAssessment.objects.filter(fiscal_year=year).exists()
        key = options["resume"] or f"property_tax.assess:{year}:{timezone.now().isoformat()}"
        self.stdout.write(f"ジョブキー: {key}（各プロセスは {key}:i/{n}）")
        jobs = [(municipality.code, year, options["chunk"], key, (i, n), initial) for i in range(n)]
        parts = run_in_processes(_run_shard, jobs)
        self.stdout.write(
            f"{wareki_nendo(year)}: 納税義務者 {sum(p[0] for p in parts)} 人、"
            f"賦課 {sum(p[1] for p in parts)} 件、変更なし {sum(p[2] for p in parts)} 件"
            f"（{n} プロセス）"
        )
        for part in parts:
            for owner, field, message in part[3][:50]:
                self.stdout.write(f"宛名 {owner}: {field}: {message}")

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


def _run_shard(
    code: str, year: int, chunk: int, key: str, shard: tuple[int, int], initial: bool
) -> tuple[int, int, int, list[tuple[int, str, str]]]:
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
    return result.owners, result.written, result.unchanged, result.problems
