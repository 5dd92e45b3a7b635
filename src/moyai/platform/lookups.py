"""Query lookups that keep indexes usable under row-level security.

PostgreSQL does not use a non-LEAKPROOF operator such as ``LIKE`` to search an index when
row-level security applies, so ``__startswith`` scans the whole table for the application role.
``starts_with`` (``^@``) is leakproof: ``field__prefix="x"`` uses it on PostgreSQL, and an escaped
``LIKE 'x%'`` elsewhere.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Lookup


@models.CharField.register_lookup
class Prefix(Lookup):
    lookup_name = "prefix"

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} ^@ {rhs}", (*lhs_params, *rhs_params)
        pattern = connection.ops.prep_for_like_query(rhs_params[0]) + "%"
        return f"{lhs} LIKE {rhs} ESCAPE '\\'", (*lhs_params, pattern)
