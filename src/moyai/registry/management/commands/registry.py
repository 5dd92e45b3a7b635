"""``moyai registry populate -m CODE --persons N [--bulk]``: synthetic residents (demo, bench)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from tqdm import tqdm

from moyai.platform.management.base import MunicipalityCommand
from moyai.registry.synthetic import bulk_population, seed_population


class Command(MunicipalityCommand):
    help = "住民記録: 架空の住民を作成します（デモ・性能測定用）。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["populate", "rekey"])
        super().add_arguments(parser)
        parser.add_argument("--persons", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--bulk",
            action="store_true",
            help="異動サービスを通さず一括で書き込む（性能測定用、監査なし）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rekey":
            from moyai.registry.services import search_keys_refresh

            for m in self.municipalities(options):
                changed = search_keys_refresh(municipality=m)
                self.stdout.write(f"{m.code} {m.name}: 検索キーを {changed} 件更新しました")
            return
        if settings.ENV == "production":
            raise CommandError("本番環境では架空の住民を作成できません")
        if not 1 <= options["persons"] <= 2_000_000:
            raise CommandError("--persons は 1〜2,000,000 です")
        for m in self.municipalities(options):
            bar = tqdm(
                total=options["persons"],
                desc=f"{m.code} {m.name}",
                unit="人",
                disable=options["verbosity"] < 1,
            )

            def progress(done: int, total: int, bar: tqdm = bar) -> None:
                bar.update(done - bar.n)

            fill = bulk_population if options["bulk"] else seed_population
            created = fill(m, persons=options["persons"], seed=options["seed"], progress=progress)
            bar.close()
            self.stdout.write(f"{m.code} {m.name}: {created} 人を作成しました")
