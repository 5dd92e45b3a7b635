"""固定資産税 forms: they parse and check shape (numbers, dates, choices); the services and
rules decide everything else. Every message names its field (項目名つき)."""

from __future__ import annotations

from datetime import date

from django import forms

from moyai.registry.forms import DATE
from moyai.tax.addressees.services import OwnerSpec
from moyai.tax.common.forms import LedgerForm, share_lines
from moyai.tax.property.models import HouseKind, LandUse, Structure
from moyai.tax.property.services import (
    SUPPORTED_FISCAL_YEARS,
    BuildingFacts,
    ParcelFacts,
    SubParcel,
)
from moyai.tax.resident.rules import wareki_nendo

# Service field names → the form fields they come from.
ALIASES = {
    "owner_id": "owner_number",
    "members": "co_owners",
    "representative_id": "representative_number",
    "area": "area_m2",
    "floor_area": "floor_area_m2",
    "parcel_ids": "lot_numbers",
}
YEARS = [(y, wareki_nendo(y)) for y in reversed(SUPPORTED_FISCAL_YEARS)]


def _yen(label: str, required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=required, min_value=0, max_value=10**13)


def _area(label: str, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


class OwnerFields(LedgerForm):
    """所有者: one 税務宛名番号, or co-owners one per line as 「宛名番号 持分」 with a 代表者."""

    owner_number = forms.CharField(label="所有者の税務宛名番号", required=False, max_length=15)
    co_owners = forms.CharField(
        label="共有者（1行に「税務宛名番号 持分」、例: T000000001 1/2）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    representative_number = forms.CharField(
        label="共有の代表者の税務宛名番号", required=False, max_length=15
    )

    aliases = ALIASES

    def clean_co_owners(self) -> list[tuple[str, str]]:
        return share_lines(str(self.cleaned_data.get("co_owners") or ""))

    def owner_spec(self) -> OwnerSpec:
        data = self.cleaned_data
        return OwnerSpec(
            number=data.get("owner_number") or "",
            shares=tuple(data.get("co_owners") or ()),
            representative=data.get("representative_number") or "",
        )


class ParcelForm(LedgerForm):
    aliases = ALIASES
    location = forms.CharField(label="所在", max_length=200)
    lot_number = forms.CharField(label="地番", max_length=40)
    land_use = forms.ChoiceField(label="地目", choices=LandUse.choices)
    area_m2 = _area("地積（㎡）")
    assessed_value = _yen("評価額（円）")
    small_residential_m2 = _area("小規模住宅用地（㎡）", required=False)
    general_residential_m2 = _area("一般住宅用地（㎡）", required=False)
    in_urbanization_area = forms.BooleanField(label="市街化区域", required=False, initial=True)

    def facts(self) -> ParcelFacts:
        d = self.cleaned_data
        return ParcelFacts(
            location=d["location"],
            lot_number=d["lot_number"],
            land_use=d["land_use"],
            area_m2=d["area_m2"],
            assessed_value=d["assessed_value"],
            small_residential_m2=d.get("small_residential_m2") or None,
            general_residential_m2=d.get("general_residential_m2") or None,
            in_urbanization_area=bool(d.get("in_urbanization_area")),
        )


class ParcelRegisterForm(ParcelForm, OwnerFields):
    changed_on = forms.DateField(label="異動日（登記日など）", widget=DATE)
    note = forms.CharField(label="異動の内容", max_length=200, initial="新規登録")


class CorrectionMixin(LedgerForm):
    aliases = ALIASES
    fiscal_year = forms.TypedChoiceField(label="適用年度（から）", choices=YEARS, coerce=int)
    note = forms.CharField(label="修正の理由", max_length=200)


class ParcelCorrectForm(ParcelForm, CorrectionMixin):
    # A correction takes effect from a 年度: the service's "changed_on" is that field.
    aliases = {**ALIASES, "changed_on": "fiscal_year"}


class BuildingForm(LedgerForm):
    aliases = ALIASES
    location = forms.CharField(label="所在", max_length=200)
    house_number = forms.CharField(label="家屋番号", max_length=40)
    house_kind = forms.ChoiceField(label="種類", choices=HouseKind.choices)
    structure = forms.ChoiceField(label="構造", choices=Structure.choices)
    floor_area_m2 = _area("床面積（㎡）")
    residential_m2 = _area("居住部分の床面積（㎡、併用住宅のとき）", required=False)
    built_year = forms.IntegerField(label="建築年（西暦）", min_value=1868, max_value=2100)
    assessed_value = _yen("評価額（円）")
    completed_on = forms.DateField(
        label="新築年月日（新築住宅減額の対象のとき）", required=False, widget=DATE
    )
    fireproof_3plus = forms.BooleanField(label="3階建以上の耐火・準耐火", required=False)
    long_life_certified = forms.BooleanField(label="認定長期優良住宅", required=False)
    rental = forms.BooleanField(label="貸家", required=False)
    in_urbanization_area = forms.BooleanField(label="市街化区域", required=False, initial=True)

    def facts(self) -> BuildingFacts:
        d = self.cleaned_data
        return BuildingFacts(
            location=d["location"],
            house_number=d["house_number"],
            house_kind=d["house_kind"],
            structure=d["structure"],
            floor_area_m2=d["floor_area_m2"],
            assessed_value=d["assessed_value"],
            built_year=d["built_year"],
            residential_m2=d.get("residential_m2") or None,
            completed_on=d.get("completed_on"),
            fireproof_3plus=bool(d.get("fireproof_3plus")),
            long_life_certified=bool(d.get("long_life_certified")),
            rental=bool(d.get("rental")),
            in_urbanization_area=bool(d.get("in_urbanization_area")),
        )


class BuildingRegisterForm(BuildingForm, OwnerFields):
    changed_on = forms.DateField(label="異動日（新築・登記日など）", widget=DATE)
    note = forms.CharField(label="異動の内容", max_length=200, initial="新築")


class BuildingCorrectForm(BuildingForm, CorrectionMixin):
    # A correction takes effect from a 年度: the service's "changed_on" is that field.
    aliases = {**ALIASES, "changed_on": "fiscal_year"}


class ChangeForm(LedgerForm):
    """異動日 and what happened (登記の原因など)."""

    aliases = ALIASES
    changed_on = forms.DateField(label="異動日（登記日）", widget=DATE)
    note = forms.CharField(label="異動の内容（登記の原因など）", max_length=200)


class TransferForm(ChangeForm, OwnerFields):
    pass


class SubdivideForm(ChangeForm):
    parts = forms.CharField(
        label="分筆後の土地（1行に「地番 地積㎡ 評価額 [小規模㎡ 一般㎡]」）",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_parts(self) -> list[SubParcel]:
        parts: list[SubParcel] = []
        for i, line in enumerate(str(self.cleaned_data["parts"]).splitlines()):
            words = line.split()
            if not words:
                continue
            if len(words) not in (3, 5) or not words[2].replace(",", "").isdigit():
                raise forms.ValidationError(
                    f"分筆後の土地の{i + 1}行目は「地番 地積 評価額」（住宅用地のときは続けて"
                    "小規模・一般の㎡）で入力してください"
                )
            parts.append(
                SubParcel(
                    lot_number=words[0],
                    area_m2=words[1],
                    assessed_value=int(words[2].replace(",", "")),
                    small_residential_m2=words[3] if len(words) == 5 else None,
                    general_residential_m2=words[4] if len(words) == 5 else None,
                )
            )
        return parts


class MergeForm(ChangeForm):
    lot_numbers = forms.CharField(
        label="合筆する土地の地番（この土地のほかに、空白・読点で区切って）", max_length=400
    )
    lot_number = forms.CharField(label="合筆後の地番", max_length=40)
    assessed_value = _yen("合筆後の評価額（円）")

    def clean_lot_numbers(self) -> list[str]:
        text = str(self.cleaned_data["lot_numbers"]).replace("、", " ").replace(",", " ")
        numbers = [w for w in text.split() if w]
        if not numbers:
            raise forms.ValidationError("合筆する土地の地番を入力してください")
        return numbers


class AssetDeclarationForm(LedgerForm):
    aliases = ALIASES
    fiscal_year = forms.TypedChoiceField(label="年度", choices=YEARS, coerce=int)
    declared_base = _yen("課税標準額の合計（円）")
    declared_on = forms.DateField(label="申告日", widget=DATE, initial=date.today)
    note = forms.CharField(label="備考", max_length=200, required=False)
