from django.apps import AppConfig


class DisasterConfig(AppConfig):
    name = "moyai.disaster"
    label = "disaster"
    verbose_name = "被災者支援"

    def ready(self) -> None:
        from moyai.disaster import (
            documents,  # noqa: F401  (registers the document kinds)
            events,
        )

        events.register()
