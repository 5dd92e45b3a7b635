"""``moyai municipality create CODE NAME [--council NAME]`` and ``moyai municipality list``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from moyai.platform import services
from moyai.platform.audit import acting_as
from moyai.platform.errors import ServiceError
from moyai.platform.management.base import cli_actor
from moyai.platform.models import Municipality


class Command(BaseCommand):
    help = "団体の登録・一覧 (register or list municipalities)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("code", help="全国地方公共団体コード（6桁、検査数字つき）")
        create.add_argument("name", help="団体名（例: 葉山町）")
        create.add_argument("--council", help="協議会名")
        sub.add_parser("list")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for m in Municipality.objects.select_related("council"):
                self.stdout.write(
                    f"{m.code}\t{m.prefecture}\t{m.name}\t{m.council.name if m.council else ''}"
                )
            return
        try:
            council = (
                services.council_get_or_create(name=options["council"])
                if options["council"]
                else None
            )
            with acting_as(cli_actor()):
                m = services.municipality_create(
                    code=options["code"], name=options["name"], council=council
                )
        except ServiceError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from None
        self.stdout.write(f"登録しました: {m.code} {m.prefecture}{m.name}")
