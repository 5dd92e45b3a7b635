"""軽自動車税 forms: shape only (the services and rules decide); messages name the field."""

from __future__ import annotations

from django import forms

from moyai.registry.forms import DATE
from moyai.tax.common.forms import LedgerForm, MonthTextField
from moyai.tax.light_vehicle.models import CLASS_CHOICES, FUEL_CHOICES, USE_CHOICES
from moyai.tax.light_vehicle.services import VehicleFacts

ALIASES = {"owner_id": "owner_number", "changed_on": "changed_on", "vehicle": "plate"}


class VehicleForm(LedgerForm):
    aliases = ALIASES

    plate = forms.CharField(label="標識番号", max_length=30)
    vehicle_class = forms.ChoiceField(label="車種区分", choices=CLASS_CHOICES)
    use = forms.ChoiceField(label="用途", choices=USE_CHOICES, initial="private")
    first_inspection = MonthTextField(
        label="初度検査年月（西暦または和暦。例: 2015-04、平成27年4月。平成15年10月以前は年だけ"
        "でも可、例: 2002）",
        required=False,
    )
    fuel = forms.ChoiceField(label="燃料", choices=FUEL_CHOICES, initial="gasoline")
    towed = forms.BooleanField(label="被けん引車", required=False)
    new_registration = forms.DateField(
        label="新規検査日（グリーン化特例の判定）", required=False, widget=DATE
    )
    green_50_standard = forms.BooleanField(
        label="燃費・排出ガス基準（概ね50%軽減）", required=False
    )

    def facts(self) -> VehicleFacts:
        d = self.cleaned_data
        return VehicleFacts(
            plate=d["plate"],
            vehicle_class=d["vehicle_class"],
            use=d["use"],
            first_inspection=d.get("first_inspection") or "",
            fuel=d["fuel"],
            towed=bool(d.get("towed")),
            new_registration=d.get("new_registration"),
            green_50_standard=bool(d.get("green_50_standard")),
        )


class VehicleRegisterForm(VehicleForm):
    owner_number = forms.CharField(label="所有者の税務宛名番号", max_length=15)
    acquired_on = forms.DateField(label="登録日（取得日）", widget=DATE)
    note = forms.CharField(label="備考", required=False, max_length=200)


class VehicleCorrectForm(VehicleForm):
    note = forms.CharField(label="修正の理由", max_length=200)


class TransferForm(LedgerForm):
    aliases = ALIASES

    owner_number = forms.CharField(label="新しい所有者の税務宛名番号", max_length=15)
    changed_on = forms.DateField(label="名義変更の日", widget=DATE)
    note = forms.CharField(label="届出の内容", max_length=200)


class ScrapForm(LedgerForm):
    aliases = ALIASES

    changed_on = forms.DateField(label="廃車（抹消・転出）の日", widget=DATE)
    note = forms.CharField(label="届出の内容", max_length=200)
