from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "moyai.registry"
    label = "registry"
    verbose_name = "住民記録"

    def ready(self) -> None:
        from moyai.registry import documents  # noqa: F401  (registers the certificate kinds)
