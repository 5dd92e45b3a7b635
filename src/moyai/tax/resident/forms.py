"""個人住民税 forms: they parse and check shape; the services and rules decide."""

from __future__ import annotations

from typing import Any

from django import forms

from moyai.registry.forms import JaForm
from moyai.tax.resident import rules

YEARS = [(y, rules.wareki_nendo(y)) for y in reversed(rules.SUPPORTED_FISCAL_YEARS)]


def _yen(label: str, required: bool = False) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=0,
        max_value=10**11,
        initial=0 if required else None,
    )


class YearForm(JaForm):
    year = forms.TypedChoiceField(label="年度", choices=YEARS, coerce=int)


class UploadForm(JaForm):
    kind = forms.ChoiceField(
        label="資料の種類",
        choices=[("salary", "給与支払報告書（個人別明細書）"), ("pension", "公的年金等支払報告書")],
    )
    file = forms.FileField(label="CSV ファイル（eLTAX の様式、CP932 または UTF-8）")
    dry_run = forms.BooleanField(label="検査だけする（登録しない）", required=False, initial=True)


class AssignForm(JaForm):
    person_id = forms.IntegerField(label="宛名（候補から選ぶか宛名の内部番号）", min_value=1)
    note = forms.CharField(label="判断の根拠", max_length=200)


class ForwardForm(JaForm):
    note = forms.CharField(label="回送先・理由", max_length=200)


class CorrectionForm(JaForm):
    note = forms.CharField(label="更正の理由", max_length=200)


class CertificateForm(JaForm):
    purpose = forms.CharField(label="請求の理由（使用目的）", max_length=200)
    requester = forms.CharField(label="請求者（本人・代理人）", max_length=100, initial="本人")


class DeclarationForm(JaForm):
    """住民税申告: the common incomes and deductions (the rules' vocabulary)."""

    kind = forms.ChoiceField(
        label="申告の種類", choices=[("declaration", "住民税申告"), ("return", "確定申告（写し）")]
    )
    salary_revenue = _yen("給与収入")
    pension_revenue = _yen("公的年金等の収入")
    business_income = _yen("事業所得（所得金額）")
    real_estate_income = _yen("不動産所得（所得金額）")
    misc_income = _yen("雑所得（年金以外、所得金額）")
    social_insurance = _yen("社会保険料")
    life_new_general = _yen("生命保険料（新・一般）")
    life_new_medical_care = _yen("介護医療保険料")
    life_new_pension = _yen("個人年金保険料（新）")
    earthquake_insurance = _yen("地震保険料")
    medical_paid = _yen("医療費（支払額）")
    medical_reimbursed = _yen("医療費（保険などで補填）")
    spouse = forms.BooleanField(label="同一生計の配偶者あり", required=False)
    spouse_income = _yen("配偶者の合計所得")
    spouse_age = forms.IntegerField(label="配偶者の年齢（12月31日）", required=False, min_value=0)
    dependant_ages = forms.CharField(
        label="扶養親族の年齢（12月31日、読点区切り。例: 20、14）", required=False, max_length=100
    )
    disability = forms.ChoiceField(
        label="本人の障害",
        choices=[("none", "なし"), ("ordinary", "障害者"), ("special", "特別障害者")],
    )
    family_status = forms.ChoiceField(
        label="寡婦・ひとり親",
        choices=[("none", "該当なし"), ("widow", "寡婦"), ("single_parent", "ひとり親")],
    )
    working_student = forms.BooleanField(label="勤労学生", required=False)
    furusato = _yen("ふるさと納税などの寄附金")
    note = forms.CharField(label="受付の記録（窓口・受付番号など）", required=False, max_length=200)

    def clean_dependant_ages(self) -> list[int]:
        text = self.cleaned_data["dependant_ages"].replace("、", ",").replace("，", ",")
        ages = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            if not part.isdigit() or int(part) > 150:
                raise forms.ValidationError(f"年齢は数字で入力してください: {part}")
            ages.append(int(part))
        return ages

    def values(self) -> dict[str, Any]:
        """The declaration in the rules' vocabulary (only what was entered)."""
        d = self.cleaned_data
        out: dict[str, Any] = {}
        for key in (
            "salary_revenue",
            "pension_revenue",
            "business_income",
            "real_estate_income",
            "misc_income",
            "social_insurance",
            "earthquake_insurance",
        ):
            if d.get(key):
                out[key] = d[key]
        life = {
            "new_general": d.get("life_new_general") or 0,
            "new_medical_care": d.get("life_new_medical_care") or 0,
            "new_pension": d.get("life_new_pension") or 0,
        }
        if any(life.values()):
            out["life_insurance"] = life
        if d.get("medical_paid"):
            out["medical_expenses"] = {
                "paid": d["medical_paid"],
                "reimbursed": d.get("medical_reimbursed") or 0,
            }
        if d.get("spouse"):
            out["spouse"] = {
                "income": d.get("spouse_income") or 0,
                "age": d.get("spouse_age") or 40,
            }
        if d["dependant_ages"]:
            out["dependants"] = [{"age": a, "income": 0} for a in d["dependant_ages"]]
        if d["disability"] != "none":
            out["disability"] = d["disability"]
        if d["family_status"] != "none":
            out["family_status"] = d["family_status"]
        if d.get("working_student"):
            out["working_student"] = True
        if d.get("furusato"):
            out["donations"] = {"furusato": d["furusato"]}
        return out


class SimulationForm(DeclarationForm):
    """試算 (public): the same items plus the age; nothing is stored. A resident's estimate
    has no 申告の種類 and no 受付の記録 (a 窓口 field that would contradict "nothing is
    recorded")."""

    kind = None  # type: ignore[assignment]
    note = None  # type: ignore[assignment]
    age = forms.IntegerField(label="年齢（前年12月31日現在）", min_value=0, max_value=150)
    year = forms.TypedChoiceField(label="年度", choices=YEARS, coerce=int)

    def values(self) -> dict[str, Any]:
        return {"age": self.cleaned_data["age"], **super().values()}


class ParametersForm(JaForm):
    """条例で定める税率等 (the common ones; others through the API)."""

    city_rate = forms.DecimalField(
        label="市町村民税 所得割の税率（%）", max_digits=6, decimal_places=3
    )
    prefecture_rate = forms.DecimalField(
        label="道府県民税 所得割の税率（%、超過課税を含む）", max_digits=6, decimal_places=3
    )
    city_per_capita = forms.IntegerField(label="市町村民税 均等割（円）", min_value=0)
    prefecture_per_capita = forms.IntegerField(label="道府県民税 均等割（円）", min_value=0)
    prefecture_per_capita_levy = forms.IntegerField(
        label="道府県民税 均等割の超過課税（円、例: 神奈川県 300）", min_value=0
    )
    grade = forms.TypedChoiceField(
        label="生活保護の級地", choices=[(1, "1級地"), (2, "2級地"), (3, "3級地")], coerce=int
    )
    rounding = forms.ChoiceField(
        label="所得割の100円未満の切捨て",
        choices=[(r.value, r.label) for r in rules.Rounding],
    )
    note = forms.CharField(label="変更の理由（条例の改正など）", max_length=200)

    FIELDS = (
        "city_rate",
        "prefecture_rate",
        "city_per_capita",
        "prefecture_per_capita",
        "prefecture_per_capita_levy",
        "grade",
        "rounding",
    )

    def overrides(self, base: rules.ResidentTaxParams) -> dict[str, Any]:
        """Only what differs from the national defaults of the year."""
        d = self.cleaned_data
        values: dict[str, Any] = {
            "city_rate": int(d["city_rate"] * 1000),
            "prefecture_rate": int(d["prefecture_rate"] * 1000),
            "city_per_capita": d["city_per_capita"],
            "prefecture_per_capita": d["prefecture_per_capita"],
            "prefecture_per_capita_levy": d["prefecture_per_capita_levy"],
            "grade": d["grade"],
            "rounding": d["rounding"],
        }
        out = {}
        for key, value in values.items():
            default = getattr(base, key)
            if (default.value if hasattr(default, "value") else default) != value:
                out[key] = value
        return out
