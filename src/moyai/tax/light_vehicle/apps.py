from django.apps import AppConfig


class LightVehicleTaxConfig(AppConfig):
    name = "moyai.tax.light_vehicle"
    label = "light_vehicle_tax"
    verbose_name = "軽自動車税（種別割）"

    def ready(self) -> None:
        from moyai.tax.light_vehicle import documents  # noqa: F401  (registers the document kinds)
