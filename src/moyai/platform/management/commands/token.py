"""``moyai token create --username U --name PURPOSE [--days N]``: issue an API token."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from moyai.platform import services
from moyai.platform.errors import ServiceError
from moyai.platform.models import StaffUser


class Command(BaseCommand):
    help = "APIトークンの発行 (issue a bearer token; shown once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--username", required=True)
        create.add_argument("--name", required=True, help="用途")
        create.add_argument("--days", type=int, default=90)

    def handle(self, *args: Any, **options: Any) -> None:
        user = StaffUser.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"職員 {options['username']} が見つかりません")
        try:
            new = services.api_token_create(user=user, name=options["name"], days=options["days"])
        except ServiceError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from None
        self.stdout.write(new.plaintext)
