"""Shared pieces of moyai's CLI commands: the ``--municipality`` option and the CLI actor."""

from __future__ import annotations

import getpass
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from moyai.platform.audit import Actor
from moyai.platform.models import Municipality


def cli_actor(municipality: Municipality | None = None) -> Actor:
    try:
        who = getpass.getuser()
    except Exception:
        who = "unknown"
    return Actor(
        username=f"cli:{who}",
        channel="cli",
        municipality_code=municipality.code if municipality else "",
    )


class MunicipalityCommand(BaseCommand):
    """A command that acts for one municipality (``--municipality CODE``) or, where allowed,
    for each municipality in turn."""

    municipality_required = True

    def execute(self, *args: Any, **options: Any) -> str | None:
        # Everything a CLI command records in an audit log is attributed to the OS user.
        from moyai.platform.audit import acting_as

        with acting_as(cli_actor()):
            return super().execute(*args, **options)

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--municipality",
            "-m",
            metavar="CODE",
            required=self.municipality_required,
            help="団体コード（6桁）",
        )

    def municipalities(self, options: dict[str, Any]) -> list[Municipality]:
        code = options.get("municipality")
        if code:
            m = Municipality.objects.filter(code=code).first()
            if m is None:
                raise CommandError(f"団体コード {code} の団体は登録されていません")
            return [m]
        return list(Municipality.objects.filter(is_active=True).order_by("code"))
