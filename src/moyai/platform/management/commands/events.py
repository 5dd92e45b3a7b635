"""``moyai events dispatch``: deliver outbox events to the registered handlers."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from tqdm import tqdm

from moyai.platform.management.base import MunicipalityCommand
from moyai.platform.outbox import dispatch_tenant


class Command(MunicipalityCommand):
    help = "イベントを配信します (deliver pending outbox events; --loop keeps running)."
    municipality_required = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["dispatch"])
        super().add_arguments(parser)
        parser.add_argument("--loop", action="store_true", help="繰り返し配信する")
        parser.add_argument("--interval", type=float, default=2.0)
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            municipalities = self.municipalities(options)
            total = 0
            for m in tqdm(
                municipalities,
                desc="配信",
                unit="団体",
                disable=options["verbosity"] < 1 or len(municipalities) < 2,
            ):
                stats = dispatch_tenant(m, batch_size=options["batch_size"])
                total += stats.delivered
                if stats.delivered and options["verbosity"] >= 1:
                    self.stdout.write(f"{m.code}: {stats.delivered} 件配信 {stats.per_consumer}")
            if not options["loop"]:
                self.stdout.write(f"配信完了: {total} 件")
                return
            time.sleep(options["interval"])
