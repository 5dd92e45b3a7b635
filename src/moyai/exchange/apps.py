from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "moyai.exchange"
    label = "exchange"
    verbose_name = "標準レイアウト（データ移行・連携）"
