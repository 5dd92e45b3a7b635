"""The Citus rule check reports deliberately wrong models, and the project passes it."""

from __future__ import annotations

from django.db import models
from django.test.utils import isolate_apps

from moyai.platform.checks import distribution_errors, tenant_tables_are_distributable
from moyai.platform.tenancy import TenantModel, municipality_key, tenant_models


def ids(errors) -> list[str]:
    return sorted(e.id for e in errors)


def test_the_project_passes() -> None:
    assert tenant_models(), "no tenant tables found"
    assert tenant_tables_are_distributable() == []


@isolate_apps("moyai.platform")
def test_wrong_models_are_reported() -> None:
    class Case(TenantModel):
        number = models.IntegerField()
        code = models.CharField(max_length=10, unique=True)  # E002

        class Meta:
            app_label = "platform"
            constraints = [
                models.UniqueConstraint(fields=["number"], name="case_number_unique"),  # E001
                models.UniqueConstraint(fields=["municipality", "number"], name="case_mn"),
            ]

    class Loose(TenantModel):
        municipality = models.ForeignKey(  # nullable: E004
            "platform.Municipality", on_delete=models.PROTECT, null=True, related_name="+"
        )

        class Meta:
            app_label = "platform"

    class Note(TenantModel):
        case = models.ForeignKey(Case, on_delete=models.PROTECT)  # to the pk: fine
        by_number = models.ForeignKey(  # to a column not unique with municipality: E005
            Case, on_delete=models.PROTECT, to_field="code", related_name="+"
        )

        class Meta:
            app_label = "platform"

    class Shared(models.Model):  # no municipality
        case = models.ForeignKey(Case, on_delete=models.PROTECT)  # E006
        name_kana = models.CharField(max_length=50)  # E007
        birth_date = models.CharField(max_length=10)  # E007 (same error)

        class Meta:
            app_label = "platform"

    class Tagged(TenantModel):
        cases = models.ManyToManyField(Case)  # the automatic table has no municipality: E006

        class Meta:
            app_label = "platform"

    tenants = [Case, Loose, Note, Tagged]
    through = Tagged.cases.through
    errors = distribution_errors([*tenants, Shared, through], tenants)
    assert ids(errors) == [
        "moyai.E001",
        "moyai.E002",
        "moyai.E004",
        "moyai.E005",
        "moyai.E006",
        "moyai.E006",
        "moyai.E006",
        "moyai.E007",
    ]
    messages = "\n".join(e.msg for e in errors)
    assert "platform.Case: unique constraint case_number_unique lacks municipality" in messages
    assert "platform.Note.by_number: refers to platform.Case.code" in messages
    assert "platform.Shared: personal data columns birth_date, name_kana" in messages
    assert "platform.Loose: a tenant table needs a non-null municipality" in messages


@isolate_apps("moyai.platform")
def test_a_correct_model_passes() -> None:
    class Parcel(TenantModel):
        municipality = municipality_key(db_index=False)
        number = models.CharField(max_length=20)

        class Meta:
            app_label = "platform"
            constraints = [
                models.UniqueConstraint(fields=["municipality", "number"], name="parcel_unique")
            ]

    class Owner(TenantModel):
        parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT)
        parcel_by_number = models.ForeignKey(
            Parcel, on_delete=models.PROTECT, to_field="number", related_name="+"
        )

        class Meta:
            app_label = "platform"

    assert distribution_errors([Parcel, Owner], [Parcel, Owner]) == []
