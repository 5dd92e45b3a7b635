from django.apps import AppConfig


class PropertyTaxConfig(AppConfig):
    name = "moyai.tax.property"
    label = "property_tax"
    verbose_name = "固定資産税"

    def ready(self) -> None:
        from moyai.tax.property import documents  # noqa: F401  (registers the document kinds)
