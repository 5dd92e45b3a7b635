"""``moyai staff create``: register a staff member with roles and a TOTP key."""

from __future__ import annotations

import getpass
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from moyai.platform import services
from moyai.platform.audit import acting_as
from moyai.platform.errors import ServiceError
from moyai.platform.management.base import cli_actor
from moyai.platform.models import Municipality, Role


class Command(BaseCommand):
    help = "職員の登録 (create a staff member; prints the TOTP key once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--municipality", "-m", help="団体コード（運用者は省略）")
        create.add_argument("--username", required=True)
        create.add_argument(
            "--roles",
            required=True,
            help="権限（カンマ区切り）: " + ", ".join(r.value for r in Role),
        )
        create.add_argument("--display-name", default="")
        create.add_argument("--department", default="")
        create.add_argument("--password", help="省略すると入力を求めます")

    def handle(self, *args: Any, **options: Any) -> None:
        municipality = None
        if options["municipality"]:
            municipality = Municipality.objects.filter(code=options["municipality"]).first()
            if municipality is None:
                raise CommandError(f"団体コード {options['municipality']} は登録されていません")
        password = options["password"] or getpass.getpass("パスワード: ")
        try:
            with acting_as(cli_actor()):
                new = services.staff_create(
                    municipality=municipality,
                    username=options["username"],
                    password=password,
                    roles=[r.strip() for r in options["roles"].split(",") if r.strip()],
                    display_name=options["display_name"],
                    department=options["department"],
                )
        except ServiceError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from None
        self.stdout.write(f"登録しました: {new.user.username}")
        self.stdout.write(f"TOTP 鍵（本人の認証アプリに登録、再表示不可）: {new.totp_secret_b32}")
        self.stdout.write(new.totp_uri)
