from django.apps import AppConfig


class ResidentTaxConfig(AppConfig):
    name = "moyai.tax.resident"
    label = "resident_tax"
    verbose_name = "個人住民税"

    def ready(self) -> None:
        from moyai.tax.resident import documents  # noqa: F401  (registers the document kinds)
