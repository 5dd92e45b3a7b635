"""System checks that keep the tenancy rule true as the schema grows (the Citus path).

Citus distributes each tenant table by ``municipality_id`` and keeps one municipality's rows of
every table on the same shard (co-location). That holds only when

* every tenant table has a non-null ``municipality`` foreign key (E004);
* every unique constraint of a tenant table includes ``municipality`` (E001–E003);
* every foreign key between tenant tables can become the composite key
  ``(municipality_id, x_id) → (municipality_id, id)`` — Django 5.2 cannot declare composite
  foreign keys, so the check asks what the conversion needs: the target is a tenant table and
  the key points at its primary key, or at a field that is unique together with
  ``municipality`` (E005);
* no table outside the tenants refers to a tenant table (E006): such a table (a platform table,
  an automatic many-to-many table) becomes a Citus *reference* table, copied to every node, and a
  reference table cannot refer to a distributed one;
* no table outside the tenants holds a resident's personal data (E007), judged by column names
  (氏名カナ, 生年月日, 住所, 個人番号, 住民票コード …): personal data belongs to one municipality.

What the check cannot see: the database-level composite keys themselves (docs/operations.md,
"Citus" explains the conversion) and personal data under an unusual column name.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import models

# Column names that mean "a resident's personal data" when found outside a tenant table.
PERSONAL_DATA_COLUMNS = frozenset(
    {
        "name_kana",
        "birth_date",
        "birthday",
        "address",
        "address_number",
        "resident_code",
        "my_number",
        "individual_number",
        "phone",
        "telephone",
        "domicile",
        "nationality",
    }
)


def _municipality_field(model: type[models.Model]) -> models.Field[Any, Any] | None:
    try:
        field = model._meta.get_field("municipality")
    except Exception:
        return None
    return field if isinstance(field, models.Field) else None


def _is_municipality_key(field: models.Field[Any, Any] | None) -> bool:
    if not isinstance(field, models.ForeignKey) or field.null:
        return False
    target = field.related_model
    label = target if isinstance(target, str) else target._meta.label
    return label == "platform.Municipality"


def _unique_with_municipality(model: type[models.Model], field_name: str) -> bool:
    for constraint in model._meta.constraints:
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.condition is None
            and set(constraint.fields) == {"municipality", field_name}
        ):
            return True
    return False


def _unique_errors(model: type[models.Model]) -> list[checks.CheckMessage]:
    label = model._meta.label
    errors: list[checks.CheckMessage] = []
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and (
            "municipality" not in constraint.fields
        ):
            errors.append(
                checks.Error(
                    f"{label}: unique constraint {constraint.name} lacks municipality",
                    obj=model,
                    id="moyai.E001",
                )
            )
    for field in model._meta.get_fields():
        if (
            getattr(field, "unique", False)
            and not getattr(field, "primary_key", False)
            and field.concrete
        ):
            errors.append(
                checks.Error(
                    f"{label}.{field.name}: unique=True on a tenant table; use a "
                    "UniqueConstraint that includes municipality",
                    obj=model,
                    id="moyai.E002",
                )
            )
    if model._meta.unique_together:
        errors.append(
            checks.Error(
                f"{label}: use UniqueConstraint, not unique_together", obj=model, id="moyai.E003"
            )
        )
    return errors


def _foreign_key_errors(
    model: type[models.Model], tenants: set[type[models.Model]]
) -> list[checks.CheckMessage]:
    label = model._meta.label
    errors: list[checks.CheckMessage] = []
    for field in model._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey) or field.name == "municipality":
            continue
        target = field.related_model
        if not isinstance(target, type) or target not in tenants:
            continue  # a reference table (platform): any node can join it
        target_field = field.target_field
        if target_field.primary_key or _unique_with_municipality(target, target_field.name):
            continue
        errors.append(
            checks.Error(
                f"{label}.{field.name}: refers to {target._meta.label}.{target_field.name}, "
                "which is neither the primary key nor unique together with municipality; the "
                "key cannot become (municipality_id, …) for Citus",
                obj=model,
                id="moyai.E005",
            )
        )
    return errors


def _shared_table_errors(
    model: type[models.Model], tenants: set[type[models.Model]]
) -> list[checks.CheckMessage]:
    label = model._meta.label
    errors: list[checks.CheckMessage] = []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.ForeignKey) and field.related_model in tenants:
            target = field.related_model
            assert isinstance(target, type)
            errors.append(
                checks.Error(
                    f"{label}.{field.name}: a table without municipality refers to the tenant "
                    f"table {target._meta.label}; make {label} a tenant table",
                    obj=model,
                    id="moyai.E006",
                )
            )
    personal = sorted(
        f.column for f in model._meta.concrete_fields if f.column in PERSONAL_DATA_COLUMNS
    )
    if personal:
        errors.append(
            checks.Error(
                f"{label}: personal data columns {', '.join(personal)} in a table without "
                "municipality; a resident's data belongs in a tenant table",
                obj=model,
                id="moyai.E007",
            )
        )
    return errors


def _project_models() -> list[type[models.Model]]:
    from django.apps import apps

    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy and m.__module__.startswith("moyai.")
    ]


def distribution_errors(
    project_models: list[type[models.Model]], tenants: list[type[models.Model]]
) -> list[checks.CheckMessage]:
    """The rule applied to the given models (the registered check passes the project's)."""
    tenant_set = set(tenants)
    errors: list[checks.CheckMessage] = []
    for model in tenants:
        if not _is_municipality_key(_municipality_field(model)):
            errors.append(
                checks.Error(
                    f"{model._meta.label}: a tenant table needs a non-null municipality "
                    "foreign key to platform.Municipality",
                    obj=model,
                    id="moyai.E004",
                )
            )
        errors += _unique_errors(model)
        errors += _foreign_key_errors(model, tenant_set)
    for model in project_models:
        if model not in tenant_set:
            errors += _shared_table_errors(model, tenant_set)
    return errors


@checks.register(checks.Tags.models)
def tenant_tables_are_distributable(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Every tenant table can be distributed by municipality and co-located (Citus)."""
    from moyai.platform.tenancy import tenant_models

    return distribution_errors(_project_models(), tenant_models())
