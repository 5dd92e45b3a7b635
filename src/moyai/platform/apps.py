from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "moyai.platform"
    label = "platform"
    verbose_name = "基盤"

    def ready(self) -> None:
        from moyai.platform import checks, lookups  # noqa: F401  (system checks, lookups)
