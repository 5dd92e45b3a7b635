"""窓口 forms for the 住民記録 screens. Forms only parse and check shape; the services decide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms

from moyai.registry.models import ResidentKind, ResidentRecord, Sex
from moyai.registry.rules import (
    DATE_EXAMPLE,
    RELATION_CODES,
    FuzzyDate,
    iso_date_from_text,
)
from moyai.registry.services import ITEM_CHOICES, Address, NewPerson, Notification

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class JaForm(forms.Form):
    """Japanese labels take no trailing colon."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def fuzzy_from(data: dict[str, Any], prefix: str, label: str) -> FuzzyDate:
    """A 不詳日 from a date field plus 不詳 flag and 不詳表記 (raises ValueError naming it)."""
    value = data.get(prefix)
    unknown = bool(data.get(f"{prefix}_unknown"))
    text = (data.get(f"{prefix}_label") or "").strip()
    if value is None:
        if unknown and text:
            return FuzzyDate("0001-01-01", True, text)
        raise ValueError(f"{label}を入力してください")
    return FuzzyDate(value.isoformat(), unknown, text)


class SearchForm(JaForm):
    kana = forms.CharField(label="フリガナ", required=False, max_length=100)
    name = forms.CharField(label="氏名（異体字も検索）", required=False, max_length=100)
    birth_date = forms.DateField(label="生年月日", required=False, widget=DATE)
    address = forms.CharField(label="住所（町字・番地）", required=False, max_length=100)
    resident_code = forms.CharField(label="住民票コード", required=False, max_length=11)
    address_number = forms.CharField(label="宛名番号", required=False, max_length=15)
    include_removed = forms.BooleanField(label="消除者も含める", required=False)
    purpose = forms.CharField(label="検索の目的", max_length=200, initial="窓口での本人確認")


class NotificationForm(JaForm):
    """異動日・届出日・届出人・窓口: common to every 異動."""

    occurred = forms.DateField(label="異動日", required=False, widget=DATE)
    occurred_unknown = forms.BooleanField(label="異動日が不詳", required=False)
    occurred_label = forms.CharField(
        label="不詳表記（例: 令和8年4月上旬）", required=False, max_length=72
    )
    notified_on = forms.DateField(label="届出日", required=False, widget=DATE)
    notifier_name = forms.CharField(label="届出人氏名", required=False, max_length=100)
    notifier_relation = forms.CharField(
        label="届出人（本人・世帯主・代理人など）", required=False, max_length=50
    )
    counter = forms.CharField(label="窓口", required=False, max_length=50, initial="本庁")
    note = forms.CharField(label="留意事項", required=False, max_length=500)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            data["_occurred"] = fuzzy_from(data, "occurred", "異動日")
        except ValueError as exc:
            self.add_error("occurred", str(exc))
        return data

    def notification(self) -> Notification:
        d = self.cleaned_data
        return Notification(
            d["_occurred"],
            d.get("notified_on"),
            d["notifier_name"],
            d["notifier_relation"],
            d["counter"],
            d["note"],
        )


class AddressForm(JaForm):
    town = forms.CharField(label="町字", max_length=120, required=False)
    town_code = forms.CharField(label="町字コード（7桁）", required=False, max_length=7)
    block = forms.CharField(label="番地・号", required=False, max_length=50)
    building = forms.CharField(label="方書", required=False, max_length=300)
    postal_code = forms.CharField(label="郵便番号", required=False, max_length=8)

    def address(self) -> Address:
        d = self.cleaned_data
        return Address(d["town"], d["block"], d["building"], d["town_code"], d["postal_code"])


RELATION_HINT = "・".join(RELATION_CODES.values())


class MemberForm(JaForm):
    """One person entering the registry (転入・出生)."""

    family_name = forms.CharField(label="氏", max_length=100)
    given_name = forms.CharField(label="名", max_length=100, required=False)
    name_kana = forms.CharField(label="フリガナ（全角カタカナ）", max_length=200)
    kana_confirmed = forms.BooleanField(label="フリガナ確認済み", required=False)
    birth = forms.DateField(label="生年月日", required=False, widget=DATE)
    birth_unknown = forms.BooleanField(label="生年月日が不詳", required=False)
    birth_label = forms.CharField(label="不詳表記", required=False, max_length=72)
    sex = forms.ChoiceField(label="性別", choices=[("", "（選択）"), *Sex.choices])
    relation = forms.CharField(
        label="続柄",
        max_length=50,
        help_text=f"例: 世帯主、妻、子、子の妻（使える続柄: {RELATION_HINT}）",
    )
    kind = forms.ChoiceField(
        label="住民種別", choices=ResidentKind.choices, initial=ResidentKind.JAPANESE
    )
    nationality = forms.CharField(label="国籍・地域（外国人）", required=False, max_length=100)
    residence_status = forms.CharField(label="在留資格（外国人）", required=False, max_length=100)
    article_30_45 = forms.CharField(
        label="法第30条の45の区分（外国人）", required=False, max_length=50
    )
    residence_card_number = forms.CharField(label="在留カード等番号", required=False, max_length=12)
    alias = forms.CharField(label="通称（外国人）", required=False, max_length=200)
    domicile = forms.CharField(label="本籍", required=False, max_length=300)
    domicile_head = forms.CharField(label="筆頭者", required=False, max_length=100)
    resident_code = forms.CharField(
        label="住民票コード（転出証明書から）", required=False, max_length=11
    )
    my_number = forms.CharField(
        label="個人番号",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            data["_birth"] = fuzzy_from(data, "birth", "生年月日")
        except ValueError as exc:
            self.add_error("birth", str(exc))
        return data

    def new_person(self) -> NewPerson:
        d = self.cleaned_data
        return NewPerson(
            family_name=d["family_name"],
            given_name=d["given_name"],
            name_kana=d["name_kana"],
            kana_confirmed=d["kana_confirmed"],
            birth=d["_birth"],
            sex=d["sex"],
            relation=d["relation"],
            kind=d["kind"],
            nationality=d["nationality"],
            residence_status=d["residence_status"],
            article_30_45=d["article_30_45"],
            residence_card_number=d["residence_card_number"],
            alias=d["alias"],
            domicile=d["domicile"],
            domicile_head=d["domicile_head"],
            resident_code=d["resident_code"],
            my_number=d["my_number"],
        )


MemberFormSet = forms.formset_factory(MemberForm, extra=3, min_num=1, max_num=10, validate_min=True)


def filled(formset: forms.BaseFormSet[Any]) -> list[MemberForm]:
    """The rows the clerk filled in (blank extra rows are ignored)."""
    return [m for m in formset.forms if m.has_changed()]


class MoveInForm(NotificationForm):
    previous_address = forms.CharField(label="転入前住所", max_length=300)
    from_abroad = forms.BooleanField(label="国外からの転入", required=False)
    household_number = forms.CharField(
        label="既存の世帯に入る場合の世帯番号", required=False, max_length=15
    )


def _member_choices(members: Sequence[ResidentRecord]) -> list[tuple[str, str]]:
    return [(str(m.person_id), f"{m.name}（{m.relation}）") for m in members]


class HouseholdChoiceForm(NotificationForm):
    """Forms that pick persons of one household and may need a new 世帯主 and 続柄."""

    persons = forms.MultipleChoiceField(label="対象者", widget=forms.CheckboxSelectMultiple)
    new_head = forms.TypedChoiceField(
        label="対象者が新しい世帯をつくる場合の世帯主", required=False, coerce=int, empty_value=None
    )
    remaining_head = forms.TypedChoiceField(
        label="世帯主が抜ける場合、残る世帯の新しい世帯主",
        required=False,
        coerce=int,
        empty_value=None,
    )

    def __init__(self, *args: Any, members: Sequence[ResidentRecord], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = list(members)
        choices = _member_choices(self.members)
        cast(forms.ChoiceField, self.fields["persons"]).choices = choices
        cast(forms.ChoiceField, self.fields["new_head"]).choices = [("", "（なし）"), *choices]
        cast(forms.ChoiceField, self.fields["remaining_head"]).choices = [
            ("", "（なし）"),
            *choices,
        ]
        for m in self.members:
            self.fields[f"relation_{m.person_id}"] = forms.CharField(
                label=f"{m.name} の新しい続柄",
                required=False,
                max_length=50,
                help_text="世帯主が変わる、または新しい世帯に移る場合に入力",
            )

    def selected(self) -> list[int]:
        return [int(p) for p in self.cleaned_data["persons"]]

    def relations(self) -> dict[int, str]:
        return {
            m.person_id: self.cleaned_data[f"relation_{m.person_id}"]
            for m in self.members
            if self.cleaned_data.get(f"relation_{m.person_id}")
        }


class MoveOutForm(HouseholdChoiceForm):
    destination = forms.CharField(label="転出先住所", max_length=300)
    abroad = forms.BooleanField(label="国外への転出", required=False)


class RelocationForm(HouseholdChoiceForm, AddressForm):
    pass


class SeparationForm(HouseholdChoiceForm):
    pass


class MergeForm(HouseholdChoiceForm):
    target_household_number = forms.CharField(label="合併先の世帯番号", max_length=15)


class RemovalForm(HouseholdChoiceForm):
    reason = forms.CharField(
        label="職権消除の理由（例: 実態調査により居住の事実なし）", max_length=200
    )


class DeathForm(NotificationForm):
    new_head = forms.TypedChoiceField(
        label="新しい世帯主（世帯主が死亡した場合）", required=False, coerce=int, empty_value=None
    )

    def __init__(
        self, *args: Any, members: Sequence[ResidentRecord], deceased: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.members = [m for m in members if m.person_id != deceased]
        cast(forms.ChoiceField, self.fields["new_head"]).choices = [
            ("", "（変更なし）"),
            *_member_choices(self.members),
        ]
        for m in self.members:
            self.fields[f"relation_{m.person_id}"] = forms.CharField(
                label=f"{m.name} の新しい続柄", required=False, max_length=50
            )

    def relations(self) -> dict[int, str]:
        return {
            m.person_id: self.cleaned_data[f"relation_{m.person_id}"]
            for m in self.members
            if self.cleaned_data.get(f"relation_{m.person_id}")
        }


class RestructureForm(NotificationForm):
    kind = forms.ChoiceField(
        label="異動の種類",
        choices=[("head_change", "世帯主変更"), ("household_change", "世帯構成変更（続柄の変更）")],
    )
    new_head = forms.TypedChoiceField(label="世帯主", coerce=int)

    def __init__(self, *args: Any, members: Sequence[ResidentRecord], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = list(members)
        cast(forms.ChoiceField, self.fields["new_head"]).choices = _member_choices(self.members)
        head = next((m for m in self.members if m.is_head), None)
        if head:
            self.fields["new_head"].initial = head.person_id
        for m in self.members:
            self.fields[f"relation_{m.person_id}"] = forms.CharField(
                label=f"{m.name} の続柄（新しい世帯主から見て）",
                required=False,
                max_length=50,
                initial=m.relation if not m.is_head else "",
            )

    def relations(self) -> dict[int, str]:
        return {
            m.person_id: self.cleaned_data[f"relation_{m.person_id}"]
            for m in self.members
            if self.cleaned_data.get(f"relation_{m.person_id}")
        }


class FamilyRegisterForm(NotificationForm):
    family_name = forms.CharField(label="氏", max_length=100)
    given_name = forms.CharField(label="名", max_length=100, required=False)
    name_kana = forms.CharField(label="フリガナ", max_length=200)
    former_surname = forms.CharField(label="旧氏", max_length=100, required=False)
    domicile = forms.CharField(label="本籍", max_length=300, required=False)
    domicile_head = forms.CharField(label="筆頭者", max_length=100, required=False)

    FIELDS = (
        "family_name",
        "given_name",
        "name_kana",
        "former_surname",
        "domicile",
        "domicile_head",
    )

    def changes(self, current: ResidentRecord) -> dict[str, Any]:
        return {
            f: self.cleaned_data[f]
            for f in self.FIELDS
            if self.cleaned_data[f] != getattr(current, f)
        }


CORRECTION_CHOICES = [
    ("family_name", "氏"),
    ("given_name", "名"),
    ("name_kana", "フリガナ"),
    ("birth_date", "生年月日（西暦または和暦。例: 1985-04-01、昭和60年4月1日）"),
    ("sex", "性別（1 男・2 女）"),
    ("address_town", "町字"),
    ("address_block", "番地・号"),
    ("address_building", "方書"),
    ("postal_code", "郵便番号"),
    ("previous_address", "転入前住所"),
    ("domicile", "本籍"),
    ("domicile_head", "筆頭者"),
    ("alias", "通称"),
    ("nationality", "国籍・地域"),
]


class CorrectionForm(JaForm):
    field = forms.ChoiceField(label="修正する項目", choices=CORRECTION_CHOICES)
    value = forms.CharField(label="正しい内容", max_length=300)
    reason = forms.CharField(label="修正の理由", max_length=200)
    counter = forms.CharField(label="窓口", required=False, max_length=50, initial="本庁")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("field") == "birth_date" and data.get("value"):
            try:
                data["value"] = iso_date_from_text(data["value"])
            except ValueError:
                self.add_error(
                    "value", f"生年月日は西暦か和暦の年月日で入力してください（{DATE_EXAMPLE}）"
                )
        return data


class CancelForm(JaForm):
    reason = forms.CharField(label="取消しの理由", max_length=200)


class RevealForm(JaForm):
    purpose = forms.CharField(label="個人番号を表示する目的", max_length=200)


class CopyRequestForm(JaForm):
    """住民票の写しの請求."""

    scope = forms.ChoiceField(
        label="種類・対象",
        choices=[
            ("household", "住民票の写し（世帯全員）"),
            ("selected", "住民票の写し（選んだ人のみ）"),
            ("items", "住民票記載事項証明書（この人の選んだ項目のみ）"),
        ],
        initial="household",
        widget=forms.RadioSelect,
    )
    items = forms.MultipleChoiceField(
        label="証明する項目（記載事項証明書）",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=list(ITEM_CHOICES.items()),
    )
    persons = forms.MultipleChoiceField(
        label="載せる人（選んだ人のみの場合）", required=False, widget=forms.CheckboxSelectMultiple
    )
    relation = forms.BooleanField(label="世帯主・続柄を記載", required=False)
    domicile = forms.BooleanField(label="本籍・筆頭者を記載", required=False)
    resident_code = forms.BooleanField(label="住民票コードを記載", required=False)
    my_number = forms.BooleanField(
        label="個人番号を記載（本人・同一世帯の請求のみ）", required=False
    )
    requester = forms.ChoiceField(
        label="請求者",
        choices=[
            ("本人", "本人"),
            ("同一世帯員", "同一世帯員"),
            ("代理人", "代理人（委任状あり）"),
            ("第三者", "第三者（正当な理由あり）"),
        ],
    )
    purpose = forms.CharField(label="使用目的", max_length=200)

    def __init__(self, *args: Any, members: Sequence[ResidentRecord], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["persons"]).choices = _member_choices(members)
