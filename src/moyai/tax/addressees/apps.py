from django.apps import AppConfig


class TaxAddresseesConfig(AppConfig):
    name = "moyai.tax.addressees"
    label = "tax_addressees"
    verbose_name = "税務宛名"
