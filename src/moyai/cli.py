"""The ``moyai`` console command: Django's management commands under the project's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moyai.platform.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "moyai"
    if len(args) > 1 and args[1] in {"demo", "demo_code"}:
        os.environ.setdefault("MOYAI_ENV", "demo")
    if len(args) > 1 and args[1] == "demo_code":
        # Checked before the settings are loaded: they would create var/ in this directory.
        from moyai.platform.management.commands.demo_code import missing_demo_database

        if problem := missing_demo_database():
            sys.stderr.write(problem + "\n")
            raise SystemExit(1)
    execute_from_command_line(args)


if __name__ == "__main__":  # pragma: no cover
    main()
