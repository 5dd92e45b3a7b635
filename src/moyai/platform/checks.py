"""System checks that keep the tenancy rule true as the schema grows (the Citus path)."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import models


@checks.register(checks.Tags.models)
def tenant_tables_are_distributable(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Every unique constraint of a tenant table, must
    include ``municipality`` so the table can be distributed by municipality."""
    from moyai.platform.tenancy import tenant_models

    errors: list[checks.CheckMessage] = []
    for model in tenant_models():
        label = model._meta.label
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint) and (
                "municipality" not in constraint.fields
            ):
                errors.append(
                    checks.Error(
                        f"{label}: unique constraint {constraint.name} lacks municipality",
                        id="moyai.E001",
                    )
                )
        for field in model._meta.get_fields():
            if (
                getattr(field, "unique", False)
                and not getattr(field, "primary_key", False)
                and (field.concrete)
            ):
                errors.append(
                    checks.Error(
                        f"{label}.{field.name}: unique=True on a tenant table; use a "
                        "UniqueConstraint that includes municipality",
                        id="moyai.E002",
                    )
                )
        if model._meta.unique_together:
            errors.append(
                checks.Error(f"{label}: use UniqueConstraint, not unique_together", id="moyai.E003")
            )
    return errors
