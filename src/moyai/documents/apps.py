from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "moyai.documents"
    label = "documents"
    verbose_name = "証明書・通知書"
