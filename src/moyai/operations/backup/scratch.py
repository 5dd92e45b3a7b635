"""A throw-away database with the deployment's schema, for ``moyai backup verify``.

SQLite: a temporary file. PostgreSQL: ``MOYAI_BACKUP_SCRATCH_DATABASE_URL`` (an empty database
the operator provides) or else a new database ``<name>_scratch_<pid>`` created beside the
deployment's (the connecting role needs ``CREATEDB``) and dropped afterwards. The schema comes
from Django's own ``migrate`` (not ``moyai migrate``, which would follow
``MOYAI_MIGRATE_DATABASE_URL`` to the real database); no row-level security is set up there.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.management import call_command
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections
from django.db.utils import load_backend

ENV_SCRATCH = "MOYAI_BACKUP_SCRATCH_DATABASE_URL"
ALIAS = "backup_scratch"


def _owner_settings() -> dict[str, Any]:
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict["OPTIONS"] = {
        k: v for k, v in settings_dict.get("OPTIONS", {}).items() if k != "assume_role"
    }
    return settings_dict


@contextmanager
def scratch_database() -> Iterator[str]:
    """Yield the alias of a freshly migrated, empty database; remove it afterwards."""
    settings_dict = _owner_settings()
    vendor = connections["default"].vendor
    cleanup: list[Any] = []
    if vendor == "sqlite":
        fd, path = tempfile.mkstemp(prefix="moyai-scratch-", suffix=".sqlite3")
        os.close(fd)
        settings_dict["NAME"] = path
        cleanup.append(lambda: Path(path).unlink(missing_ok=True))
    elif vendor == "postgresql":
        url = os.environ.get(ENV_SCRATCH)
        if url:
            parsed = dj_database_url.parse(url)
            for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
                settings_dict[key] = parsed[key]
        else:
            name = f"{settings_dict['NAME']}_scratch_{os.getpid()}"
            _admin(settings_dict, f'DROP DATABASE IF EXISTS "{name}"')
            _admin(settings_dict, f'CREATE DATABASE "{name}"')
            settings_dict["NAME"] = name
            cleanup.append(lambda: _admin(settings_dict, f'DROP DATABASE IF EXISTS "{name}"'))
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {vendor}")
    # A connection made here, not declared in settings: the deployment's own list of databases
    # (and every check and router that walks it) does not change.
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, ALIAS)
    connections[ALIAS] = wrapper
    try:
        call_command(DjangoMigrate(), database=ALIAS, verbosity=0, interactive=False)
        yield ALIAS
    finally:
        wrapper.close()
        del connections[ALIAS]
        for step in cleanup:
            step()


def _admin(settings_dict: dict[str, Any], sql: str) -> None:
    """Run ``sql`` outside any transaction on the server's maintenance database."""
    import psycopg

    parts = {
        "dbname": "postgres",
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
    }
    conninfo = psycopg.conninfo.make_conninfo(
        **{k: str(v) for k, v in parts.items() if v not in (None, "")}
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.encode())
