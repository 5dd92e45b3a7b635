"""``moyai migrate``: Django's migrate as the owner role, then row-level security and grants."""

from __future__ import annotations

import os
from typing import Any

import dj_database_url
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from moyai.platform.rls import apply_row_level_security


class Command(DjangoMigrate):
    help = (
        "Apply migrations as the owner role (MOYAI_MIGRATE_DATABASE_URL if set), then enable "
        "row-level security on every tenant table and grant the application role its privileges."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        saved = dict(connection.settings_dict)
        saved_options = dict(saved.get("OPTIONS", {}))
        url = os.environ.get("MOYAI_MIGRATE_DATABASE_URL")
        if url:
            parsed = dj_database_url.parse(url)
            for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
                connection.settings_dict[key] = parsed[key]
        connection.settings_dict["OPTIONS"] = {
            k: v for k, v in saved_options.items() if k != "assume_role"
        }
        connection.close()
        try:
            super().handle(*args, **options)
            secured = apply_row_level_security(connection)
            if secured and options["verbosity"] >= 1:
                self.stdout.write(
                    f"Row-level security: {len(secured)} tenant tables secured for the "
                    "application role."
                )
        finally:
            connection.close()
            for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
                connection.settings_dict[key] = saved[key]
            connection.settings_dict["OPTIONS"] = saved_options
