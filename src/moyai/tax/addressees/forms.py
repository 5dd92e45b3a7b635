"""税務宛名 forms: shape only (the services check the rest); messages name the field."""

from __future__ import annotations

from django import forms

from moyai.tax.addressees.models import Business, ContactRole
from moyai.tax.common.forms import DateTextField, LedgerForm, share_lines

BIRTH_LABEL = "生年月日（西暦または和暦。例: 1985-04-01、昭和60年4月1日）"


class NonResidentForm(LedgerForm):
    name = forms.CharField(label="氏名", max_length=200)
    kana = forms.CharField(label="フリガナ", max_length=200)
    birth_date = DateTextField(label=BIRTH_LABEL, required=False)
    postal_code = forms.CharField(label="郵便番号（7桁）", required=False, max_length=8)
    address = forms.CharField(label="住所", max_length=300)


class CorporationForm(LedgerForm):
    corporate_number = forms.CharField(label="法人番号（13桁）", max_length=13)
    name = forms.CharField(label="名称", max_length=200)
    kana = forms.CharField(label="フリガナ", required=False, max_length=200)
    postal_code = forms.CharField(label="郵便番号（7桁）", required=False, max_length=8)
    address = forms.CharField(label="所在地", max_length=300)


class UpdateForm(LedgerForm):
    name = forms.CharField(label="氏名・名称", max_length=200)
    kana = forms.CharField(label="フリガナ", required=False, max_length=200)
    birth_date = DateTextField(label=BIRTH_LABEL, required=False)
    postal_code = forms.CharField(label="郵便番号（7桁）", required=False, max_length=8)
    address = forms.CharField(label="住所・所在地", max_length=300)
    note = forms.CharField(label="変更の理由", max_length=200)


class ContactForm(LedgerForm):
    business = forms.ChoiceField(label="業務", choices=Business.choices)
    role = forms.ChoiceField(label="種類", choices=ContactRole.choices)
    contact_name = forms.CharField(
        label="氏名・名称（空にすると届出を取り消します）", required=False, max_length=200
    )
    contact_postal_code = forms.CharField(label="郵便番号（7桁）", required=False, max_length=8)
    contact_address = forms.CharField(label="住所", required=False, max_length=300)
    contact_note = forms.CharField(label="届出の内容（理由）", max_length=200)

    aliases = {
        "name": "contact_name",
        "address": "contact_address",
        "postal_code": "contact_postal_code",
        "note": "contact_note",
    }


class CoOwnersForm(LedgerForm):
    co_owners = forms.CharField(
        label="共有者（1行に「税務宛名番号 持分」、例: T000000001 1/2）",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    representative_number = forms.CharField(label="代表者の税務宛名番号", max_length=15)

    aliases = {"members": "co_owners", "representative_id": "representative_number"}

    def clean_co_owners(self) -> list[tuple[str, str]]:
        return share_lines(str(self.cleaned_data["co_owners"]))
