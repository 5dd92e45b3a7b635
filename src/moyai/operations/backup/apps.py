from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "moyai.operations.backup"
    label = "backup"
    verbose_name = "バックアップ・復元"
