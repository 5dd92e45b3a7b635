from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "moyai.operations.billing"
    label = "billing"
    verbose_name = "割り勘（費用負担）"

    def ready(self) -> None:
        from moyai.operations.billing import documents  # noqa: F401  (registers the kind)
