"""個人住民税（市町村民税・道府県民税）と森林環境税の規則: 令和7年度・令和8年度.

Pure Python; no Django, no I/O. Legal sources:

- 地方税法 第20条の4の2 (端数計算), 第32条・第313条 (課税標準: 前年の所得を所得税法の例による),
  第34条・第314条の2 (所得控除), 第35条・第314条の3 (所得割の税率),
  第37条・第314条の6 (調整控除), 第37条の2・第314条の7 (寄附金税額控除),
  第37条の3・第314条の8 (外国税額控除), 第37条の4・第314条の9 (配当割額控除, not implemented),
  第38条・第310条 (均等割の税率), 第24条の5・第295条 (非課税), 附則第3条の3 (所得割の非課税),
  附則第5条 (配当控除), 附則第5条の4の2 (住宅借入金等特別税額控除);
  地方税法施行令 第47条の3 (均等割の非課税限度額)
- 所得税法 第28条・別表第五 (給与所得), 第35条 (公的年金等控除)
- 租税特別措置法 第41条の3の3 (所得金額調整控除)
- 森林環境税及び森林環境譲与税に関する法律 (森林環境税 1,000円)

Figures and examples: ``shared/reference/tax-rules.md`` §1. Points taken by analogy or not
confirmed there are listed in ``UNCONFIRMED``.

Money is ``int`` yen throughout. Rates are ``int`` in units of 1/100,000 (0.001%): 6% = 6000,
神奈川県の超過課税 4.025% = 4025.

Implemented: 総合課税の所得 (給与・公的年金等は収入から、その他は所得金額で入力),
所得金額調整控除, 所得控除 (雑損控除を除く), 非課税 (生活扶助, 障害者等135万円,
均等割・所得割の非課税限度額), 調整控除, 配当控除, 住宅借入金等特別税額控除,
寄附金税額控除 (基本控除・特例控除), 外国税額控除 (入力額), 100円未満の端数処理, 均等割,
森林環境税.

Not implemented: 分離課税 (株式・土地等の譲渡, 退職, 山林); 損益通算 and 繰越損失 (incomes
are ≥ 0); 雑損控除; 申告特例控除 (ワンストップ特例: 特例控除額と同額を別途控除する);
配当割額・株式等譲渡所得割額控除; 証券投資信託等の配当控除率 (半分の率);
令和7年度の定額減税 (控除対象配偶者以外の同一生計配偶者 1万円); 家屋敷課税;
事業専従者の除外 (the caller leaves 事業専従者 out of spouse and dependants).

JSON shape accepted by ``taxpayer_from_mapping`` (every key but ``age`` is optional; amounts are
int yen ≥ 0; ages are completed years on 12/31 of the income year unless said otherwise)::

    {
      "age": 45,                      # required
      "age_on_january_1": 45,         # 賦課期日の年齢 (未成年判定); default = age
      "salary_revenue": 7000000,      # 給与収入
      "pension_revenue": 0,           # 公的年金等の収入
      "business_income": 0,           # 事業所得 (所得金額)
      "real_estate_income": 0,        # 不動産所得
      "dividend_income": 0,           # 配当所得 (総合課税)
      "misc_income": 0,               # 雑所得 (公的年金等以外)
      "occasional_income": 0,         # 一時所得 (2分の1後の金額)
      "social_insurance": 700000,     # 社会保険料
      "small_business_mutual_aid": 0, # 小規模企業共済等掛金
      "life_insurance": {"new_general": 0, "new_medical_care": 0, "new_pension": 0,
                         "old_general": 0, "old_pension": 0},   # 支払保険料
      "earthquake_insurance": 0,      # 地震保険料
      "old_long_term_insurance": 0,   # 旧長期損害保険料
      "medical_expenses": {"paid": 0, "reimbursed": 0},
      "disability": "none",           # none | ordinary | special  (本人)
      "family_status": "none",        # none | widow | single_parent
      "sex": null,                    # female | male (required for single_parent)
      "single_parent_child_income": 0,  # ひとり親の子の総所得金額等
      "working_student": false,
      "public_assistance": false,     # 生活扶助を受けている (1月1日現在)
      "spouse": null | {"income": 0, "age": 45, "same_household": true, "disability": "none"},
      "dependants": [{"age": 20, "income": 0, "cohabiting_parent": false, "disability": "none"}],
      "housing_loan": null | {"available": 0, "special": false,
                              "income_tax_taxable_income": null},
      "donations": {"furusato": 0, "designated_city": 0, "designated_prefecture": 0},
      "dividend_credit_base": 0,      # 配当控除の対象となる配当所得 (≤ dividend_income)
      "foreign_tax_credit": {"city": 0, "prefecture": 0}
    }

For spouse and dependants ``disability`` is none | ordinary | special | special_cohabiting
(同居特別障害者); ``income`` is 合計所得金額; a dependant over the 扶養 income limit is not a
扶養親族 but may give 特定親族特別控除 (令和8年度, ages 19–22). ``housing_loan.available`` is the
所得税で控除しきれなかった住宅借入金等特別控除額; ``special`` selects 7%/136,500円;
``income_tax_taxable_income`` is 所得税の課税総所得金額等 (default: the 住民税 課税総所得金額).

``params_from_mapping`` overrides take the field names of ``ResidentTaxParams`` except
``fiscal_year``: ``city_rate``, ``prefecture_rate`` (1/100,000 units), ``designated_city``
(bool; when it changes and no rate is given, the rates become 8%/2% or 6%/4%),
``city_per_capita``,
``prefecture_per_capita``, ``prefecture_per_capita_levy`` (e.g. 神奈川 300),
``prefecture_per_capita_levy_label``, ``forest_environment_tax``, ``grade`` (1–3; the 均等割 limit
figures follow it unless given), ``per_capita_exemption_person|base|addon``,
``income_levy_exemption_person|base|addon``, ``special_exemption_limit``, ``rounding``
("after_credits" | "before_credits"), ``housing_loan_rate|cap``, ``housing_loan_special_rate|cap``,
``spouse_income_limit``, ``dependant_income_limit``, ``working_student_income_limit``,
``single_parent_child_income_limit``, ``specified_relative_deduction``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final, TypeVar

from moyai.tax.common.trace import Trace, yen

SUPPORTED_FISCAL_YEARS: Final[tuple[int, ...]] = (2025, 2026)
RATE_UNIT: Final = 100_000  # rates are per 100,000: 6% = 6000
MAX_YEN: Final = 10**12
MAX_AGE: Final = 150

# Points taken from analogy or unconfirmed sources; each is also marked ``# 要確認`` in the code.
UNCONFIRMED: Final[tuple[str, ...]] = (
    "令和8年度の調整控除: 配偶者特別控除の人的控除差を、配偶者の合計所得 58万円超60万円未満 → "
    "5/4/2万円、60万円以上65万円未満 → 3/2/1万円 とした（改正前の 48万円超50万円未満・50万円以上"
    "55万円未満 を10万円ずらした類推。改正後の地方税法第314条の6 未確認）",
    "令和8年度の調整控除: 特定親族特別控除の人的控除差を 0 とした（改正後の第314条の6 未確認。"
    "特定扶養と同様に所得税との差を置く可能性あり）",
    "2級地の均等割非課税限度額 31.5万円×N＋10万円＋18.9万円（1級地の0.9倍。公式の資料なし）",
    "所得割の100円未満切捨ての時点: 既定は税額控除後（柏市・見附市の例は控除前に切捨て。"
    "「税額控除の前と後」を選ぶと控除前と控除後の両方で切り捨てる）",
    "1円未満の端数: 生命保険料控除・地震保険料控除・公的年金等控除・所得金額調整控除は切上げ、"
    "算出所得割・配当控除・寄附金税額控除は切捨て、住宅借入金等特別税額控除の市町村民税分は"
    "切捨てで残りを道府県民税分とした",
    "住宅借入金等特別税額控除の限度額は所得税の課税総所得金額等による。入力がないときは住民税の"
    "課税総所得金額で代用する",
    "給与収入が最低控除額＋1,000円未満（令和8年度 651,000円未満、"
    "令和7年度 551,000円未満）の給与所得を0 とした（所得税法別表第五の刻み。"
    "三芳町の説明は「650,000円以下 → 0」）",
    "配偶者特別控除の区分: 令和8年度は対象の下限だけが 48万円超 → 58万円超 に移り、"
    "100万円以下 33万円 以降の区分は変わらないとした（所得税の改正と同じ形）",
    "勤労学生の「給与所得等以外の所得 10万円以下」: 不動産・配当・一時・公的年金等の所得を勤労以外"
    "とし、事業所得と雑所得（公的年金等以外）は勤労によるものとみなした",
)


class RuleInputError(ValueError):
    """Bad input or parameter; ``field`` is the path (e.g. ``dependants[1].age``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- 年度 ---------------------------------------------------------------------------------------


def wareki_nendo(fiscal_year: int) -> str:
    """2026 → 令和8年度 (2019 → 令和元年度, 1989 → 平成元年度)."""
    if fiscal_year >= 2019:
        era, n = "令和", fiscal_year - 2018
    elif fiscal_year >= 1989:
        era, n = "平成", fiscal_year - 1988
    elif fiscal_year >= 1927:
        era, n = "昭和", fiscal_year - 1925
    else:
        raise ValueError(f"{fiscal_year}年度は和暦に変換できません")
    return f"{era}{'元' if n == 1 else n}年度"


def _check_year(fiscal_year: int) -> None:
    if fiscal_year not in SUPPORTED_FISCAL_YEARS:
        try:
            name = f"{fiscal_year}年度（{wareki_nendo(fiscal_year)}）"
        except ValueError:
            name = f"{fiscal_year}年度"
        supported = "・".join(f"{y}（{wareki_nendo(y)}）" for y in SUPPORTED_FISCAL_YEARS)
        raise ValueError(f"{name}の個人住民税の規則はありません（対応年度: {supported}）")


# --- 列挙 ---------------------------------------------------------------------------------------


class Disability(StrEnum):
    NONE = "none"
    ORDINARY = "ordinary"  # 障害者
    SPECIAL = "special"  # 特別障害者
    SPECIAL_COHABITING = "special_cohabiting"  # 同居特別障害者 (配偶者・扶養親族のみ)


class FamilyStatus(StrEnum):
    NONE = "none"
    WIDOW = "widow"  # 寡婦
    SINGLE_PARENT = "single_parent"  # ひとり親


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


class Rounding(StrEnum):
    """When the 100-yen truncation of 所得割 (地方税法第20条の4の2第3項) happens."""

    AFTER_CREDITS = "after_credits"
    BEFORE_CREDITS = "before_credits"

    @property
    def label(self) -> str:
        return {"after_credits": "税額控除の後（既定）", "before_credits": "税額控除の前と後"}[
            self.value
        ]


class Exemption(StrEnum):
    NONE = "none"
    INCOME_LEVY = "income_levy"  # 所得割のみ非課税
    FULL = "full"  # 均等割・所得割とも非課税（森林環境税も課さない）

    @property
    def label(self) -> str:
        return {"none": "課税", "income_levy": "所得割のみ非課税", "full": "全部非課税"}[self.value]


_LABELS: Final[dict[str, str]] = {
    # taxpayer
    "age": "年齢（前年12月31日現在）",
    "age_on_january_1": "年齢（1月1日現在）",
    "salary_revenue": "給与収入",
    "pension_revenue": "公的年金等の収入",
    "business_income": "事業所得",
    "real_estate_income": "不動産所得",
    "dividend_income": "配当所得",
    "misc_income": "雑所得（公的年金等以外）",
    "occasional_income": "一時所得（2分の1後）",
    "social_insurance": "社会保険料",
    "small_business_mutual_aid": "小規模企業共済等掛金",
    "life_insurance": "生命保険料",
    "new_general": "一般生命保険料（新契約）",
    "new_medical_care": "介護医療保険料",
    "new_pension": "個人年金保険料（新契約）",
    "old_general": "一般生命保険料（旧契約）",
    "old_pension": "個人年金保険料（旧契約）",
    "earthquake_insurance": "地震保険料",
    "old_long_term_insurance": "旧長期損害保険料",
    "medical_expenses": "医療費",
    "paid": "支払った医療費",
    "reimbursed": "保険金などで補填される金額",
    "disability": "障害者の区分",
    "family_status": "寡婦・ひとり親の区分",
    "sex": "性別",
    "single_parent_child_income": "ひとり親の子の総所得金額等",
    "working_student": "勤労学生",
    "public_assistance": "生活扶助の受給",
    "spouse": "配偶者",
    "income": "合計所得金額",
    "same_household": "生計を一にする",
    "dependants": "扶養親族等",
    "cohabiting_parent": "同居老親等",
    "housing_loan": "住宅借入金等特別税額控除",
    "available": "所得税で控除しきれなかった住宅借入金等特別控除額",
    "special": "特定取得等（7%・136,500円）",
    "income_tax_taxable_income": "所得税の課税総所得金額等",
    "donations": "寄附金",
    "furusato": "都道府県・市区町村への寄附金（ふるさと納税）",
    "designated_city": "市区町村の条例で指定する寄附金",
    "designated_prefecture": "都道府県の条例で指定する寄附金",
    "dividend_credit_base": "配当控除の対象となる配当所得",
    "foreign_tax_credit": "外国税額控除",
    "city": "市町村民税分",
    "prefecture": "道府県民税分",
    # params
    "fiscal_year": "年度",
    "city_rate": "市町村民税所得割の税率",
    "prefecture_rate": "道府県民税所得割の税率",
    "city_per_capita": "市町村民税均等割",
    "prefecture_per_capita": "道府県民税均等割",
    "prefecture_per_capita_levy": "道府県民税均等割の超過課税",
    "prefecture_per_capita_levy_label": "道府県民税均等割の超過課税の名称",
    "forest_environment_tax": "森林環境税",
    "grade": "級地",
    "per_capita_exemption_person": "均等割非課税限度額（1人当たり）",
    "per_capita_exemption_base": "均等割非課税限度額（基本額）",
    "per_capita_exemption_addon": "均等割非課税限度額（扶養がある場合の加算額）",
    "income_levy_exemption_person": "所得割非課税限度額（1人当たり）",
    "income_levy_exemption_base": "所得割非課税限度額（基本額）",
    "income_levy_exemption_addon": "所得割非課税限度額（扶養がある場合の加算額）",
    "special_exemption_limit": "障害者・未成年者・寡婦・ひとり親の非課税限度額",
    "rounding": "所得割の100円未満切捨ての時点",
    "housing_loan_rate": "住宅借入金等特別税額控除の控除率",
    "housing_loan_cap": "住宅借入金等特別税額控除の限度額",
    "housing_loan_special_rate": "住宅借入金等特別税額控除の控除率（特定取得等）",
    "housing_loan_special_cap": "住宅借入金等特別税額控除の限度額（特定取得等）",
    "spouse_income_limit": "同一生計配偶者の所得要件",
    "dependant_income_limit": "扶養親族の所得要件",
    "working_student_income_limit": "勤労学生の所得要件",
    "single_parent_child_income_limit": "ひとり親の子の所得要件",
    "specified_relative_deduction": "特定親族特別控除の有無",
}


def _label(name: str) -> str:
    return _LABELS.get(name, name)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(value: object, name: str, low: int, high: int, what: str = "整数") -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not (low <= value <= high):
        raise RuleInputError(
            name, f"{_label(name)}は{low:,}以上{high:,}以下の{what}で入力してください"
        )


def _check_yen(value: object, name: str) -> None:
    _check_int(value, name, 0, MAX_YEN, "金額（円）")


def _check_age(value: object, name: str) -> None:
    _check_int(value, name, 0, MAX_AGE, "整数（歳）")


def _check_bool(value: object, name: str) -> None:
    if not isinstance(value, bool):
        raise RuleInputError(name, f"{_label(name)}は true か false で入力してください")


def _check_enum(value: object, name: str, enum: type[StrEnum]) -> None:
    if not isinstance(value, enum):
        allowed = "、".join(m.value for m in enum)
        raise RuleInputError(name, f"{_label(name)}は次のいずれかです: {allowed}")


# --- パラメータ ---------------------------------------------------------------------------------

# 均等割の非課税限度額 (施行令第47条の3 の基準; 条例で定める): 級地 → (1人当たり, 基本額, 加算額).
PER_CAPITA_EXEMPTION_BY_GRADE: Final[Mapping[int, tuple[int, int, int]]] = {
    1: (350_000, 100_000, 210_000),
    2: (315_000, 100_000, 189_000),  # 要確認: 1級地の0.9倍（公式資料なし）
    3: (280_000, 100_000, 168_000),
}

STANDARD_RATES: Final[Mapping[bool, tuple[int, int]]] = {
    False: (6_000, 4_000),
    True: (8_000, 2_000),
}


@dataclass(frozen=True)
class ResidentTaxParams:
    """Everything a 条例 may set or a 年度 changes. Build with ``national_defaults``."""

    fiscal_year: int
    # 令和7年度改正で令和8年度から変わった所得要件（法定）.
    spouse_income_limit: int  # 同一生計配偶者 48万 → 58万
    dependant_income_limit: int  # 扶養親族 48万 → 58万
    working_student_income_limit: int  # 勤労学生 75万 → 85万
    single_parent_child_income_limit: int  # ひとり親の子 48万 → 58万
    specified_relative_deduction: bool  # 特定親族特別控除 (令和8年度から)
    city_rate: int = 6_000  # 市町村民税所得割 6% (指定都市 8%)
    prefecture_rate: int = 4_000  # 道府県民税所得割 4% (指定都市 2%; 神奈川 4.025%)
    designated_city: bool = False  # 指定都市: 調整控除・税額控除の按分 4:1
    city_per_capita: int = 3_000
    prefecture_per_capita: int = 1_000
    prefecture_per_capita_levy: int = 0  # 県の超過課税 (神奈川 300, 岩手 1,000 …)
    prefecture_per_capita_levy_label: str = "道府県民税均等割の超過課税"
    forest_environment_tax: int = 1_000
    grade: int = 1  # 生活保護の級地
    per_capita_exemption_person: int = 350_000
    per_capita_exemption_base: int = 100_000
    per_capita_exemption_addon: int = 210_000
    income_levy_exemption_person: int = 350_000  # 附則第3条の3 (法定)
    income_levy_exemption_base: int = 100_000
    income_levy_exemption_addon: int = 320_000
    special_exemption_limit: int = 1_350_000  # 第295条第1項第2号
    rounding: Rounding = Rounding.AFTER_CREDITS
    housing_loan_rate: int = 5_000
    housing_loan_cap: int = 97_500
    housing_loan_special_rate: int = 7_000
    housing_loan_special_cap: int = 136_500

    def __post_init__(self) -> None:
        try:
            _check_year(self.fiscal_year)
        except ValueError as exc:
            raise RuleInputError("fiscal_year", str(exc)) from None
        for name, value in self.__dict__.items():
            spec = _PARAM_SPECS.get(name)
            if spec is not None:
                spec(value, name)

    @property
    def city_share(self) -> tuple[int, int]:
        """市町村民税:道府県民税 for 調整控除, 住宅ローン and 寄附金 特例 (3:2, 指定都市 4:1)."""
        return (4, 1) if self.designated_city else (3, 2)


def _rate_spec(value: object, name: str) -> None:
    _check_int(value, name, 0, 20_000, "整数（1/100,000単位: 6% = 6000）")


def _amount_spec(value: object, name: str) -> None:
    _check_int(value, name, 0, 100_000_000, "金額（円）")


def _bool_spec(value: object, name: str) -> None:
    _check_bool(value, name)


def _grade_spec(value: object, name: str) -> None:
    _check_int(value, name, 1, 3, "整数（級地）")


def _rounding_spec(value: object, name: str) -> None:
    _check_enum(value, name, Rounding)


def _text_spec(value: object, name: str) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise RuleInputError(name, f"{_label(name)}は1〜100文字で入力してください")


_PARAM_SPECS: Final[dict[str, Callable[[object, str], None]]] = {
    "spouse_income_limit": _amount_spec,
    "dependant_income_limit": _amount_spec,
    "working_student_income_limit": _amount_spec,
    "single_parent_child_income_limit": _amount_spec,
    "specified_relative_deduction": _bool_spec,
    "city_rate": _rate_spec,
    "prefecture_rate": _rate_spec,
    "designated_city": _bool_spec,
    "city_per_capita": _amount_spec,
    "prefecture_per_capita": _amount_spec,
    "prefecture_per_capita_levy": _amount_spec,
    "prefecture_per_capita_levy_label": _text_spec,
    "forest_environment_tax": _amount_spec,
    "grade": _grade_spec,
    "per_capita_exemption_person": _amount_spec,
    "per_capita_exemption_base": _amount_spec,
    "per_capita_exemption_addon": _amount_spec,
    "income_levy_exemption_person": _amount_spec,
    "income_levy_exemption_base": _amount_spec,
    "income_levy_exemption_addon": _amount_spec,
    "special_exemption_limit": _amount_spec,
    "rounding": _rounding_spec,
    "housing_loan_rate": _rate_spec,
    "housing_loan_cap": _amount_spec,
    "housing_loan_special_rate": _rate_spec,
    "housing_loan_special_cap": _amount_spec,
}


def national_defaults(fiscal_year: int) -> ResidentTaxParams:
    """標準税率・1級地・全国共通の所得要件 for 令和7年度 (2025) or 令和8年度 (2026)."""
    _check_year(fiscal_year)
    if fiscal_year >= 2026:  # 令和7年度税制改正（令和7年分所得から）
        return ResidentTaxParams(
            fiscal_year=fiscal_year,
            spouse_income_limit=580_000,
            dependant_income_limit=580_000,
            working_student_income_limit=850_000,
            single_parent_child_income_limit=580_000,
            specified_relative_deduction=True,
        )
    return ResidentTaxParams(
        fiscal_year=fiscal_year,
        spouse_income_limit=480_000,
        dependant_income_limit=480_000,
        working_student_income_limit=750_000,
        single_parent_child_income_limit=480_000,
        specified_relative_deduction=False,
    )


def params_from_mapping(
    base: ResidentTaxParams, overrides: Mapping[str, object]
) -> ResidentTaxParams:
    """``base`` with validated overrides (see the module docstring for the keys)."""
    if not isinstance(overrides, Mapping):
        raise RuleInputError("(params)", "パラメータはキーと値の組で指定してください")
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key == "fiscal_year":
            raise RuleInputError(
                key, "年度は上書きできません（national_defaults で選んでください）"
            )
        spec = _PARAM_SPECS.get(key) if isinstance(key, str) else None
        if spec is None:
            raise RuleInputError(str(key), "不明なパラメータです")
        if key == "rounding" and isinstance(value, str) and value in {r.value for r in Rounding}:
            value = Rounding(str(value))
        spec(value, key)
        changes[key] = value
    if "grade" in changes:
        person, base_amount, addon = PER_CAPITA_EXEMPTION_BY_GRADE[changes["grade"]]
        changes.setdefault("per_capita_exemption_person", person)
        changes.setdefault("per_capita_exemption_base", base_amount)
        changes.setdefault("per_capita_exemption_addon", addon)
    flag = changes.get("designated_city")
    if flag is not None and flag != base.designated_city:
        city, prefecture = STANDARD_RATES[flag]
        changes.setdefault("city_rate", city)
        changes.setdefault("prefecture_rate", prefecture)
    return replace(base, **changes)


def _rate_text(value: int) -> str:
    """6000 → 6%, 4025 → 4.025% (1/100,000 units)."""
    whole, rest = divmod(value, 1000)
    return f"{whole}.{rest:03d}".rstrip("0").rstrip(".") + "%"


def describe_overrides(overrides: Mapping[str, object]) -> list[tuple[str, str]]:
    """条例による設定 as (項目, 値) in the words of the screens: rates in %, amounts in 円,
    the 級地 and the rounding by their labels (an empty mapping → no rows: 全国標準)."""
    rows = []
    for key, value in overrides.items():
        spec = _PARAM_SPECS.get(key)
        label = "指定都市" if key == "designated_city" else _label(key)
        number = value if isinstance(value, int) and not isinstance(value, bool) else None
        if spec is _rate_spec and number is not None:
            text = _rate_text(number)
        elif spec is _amount_spec and number is not None:
            text = f"{number:,}円"
        elif spec is _grade_spec:
            text = f"{value}級地"
        elif spec is _rounding_spec and value in {r.value for r in Rounding}:
            text = Rounding(str(value)).label
        elif isinstance(value, bool):
            text = "あり" if value else "なし"
        else:
            text = str(value)
        rows.append((label, text))
    return rows


# --- 入力 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifeInsurancePremiums:
    """支払った生命保険料 by category (新契約: 平成24年1月1日以後の契約)."""

    new_general: int = 0
    new_medical_care: int = 0
    new_pension: int = 0
    old_general: int = 0
    old_pension: int = 0

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            _check_yen(value, name)


@dataclass(frozen=True)
class MedicalExpenses:
    paid: int = 0
    reimbursed: int = 0

    def __post_init__(self) -> None:
        _check_yen(self.paid, "paid")
        _check_yen(self.reimbursed, "reimbursed")


@dataclass(frozen=True)
class Spouse:
    income: int  # 合計所得金額
    age: int  # 前年12月31日現在
    same_household: bool = True  # 生計を一にする
    disability: Disability = Disability.NONE

    def __post_init__(self) -> None:
        _check_yen(self.income, "income")
        _check_age(self.age, "age")
        _check_bool(self.same_household, "same_household")
        _check_enum(self.disability, "disability", Disability)


@dataclass(frozen=True)
class Dependant:
    """A relative in the same household (生計を一にする親族; 16歳未満も含む)."""

    age: int  # 前年12月31日現在
    income: int = 0  # 合計所得金額
    cohabiting_parent: bool = False  # 同居老親等 (70歳以上の直系尊属で同居)
    disability: Disability = Disability.NONE

    def __post_init__(self) -> None:
        _check_age(self.age, "age")
        _check_yen(self.income, "income")
        _check_bool(self.cohabiting_parent, "cohabiting_parent")
        _check_enum(self.disability, "disability", Disability)
        if self.cohabiting_parent and self.age < 70:
            raise RuleInputError("cohabiting_parent", "同居老親等は70歳以上の人に限ります")


@dataclass(frozen=True)
class HousingLoan:
    available: int  # 所得税で控除しきれなかった住宅借入金等特別控除額
    special: bool = False  # 7%・136,500円の場合（特定取得・特別特例取得等）
    income_tax_taxable_income: int | None = None  # 所得税の課税総所得金額等

    def __post_init__(self) -> None:
        _check_yen(self.available, "available")
        _check_bool(self.special, "special")
        if self.income_tax_taxable_income is not None:
            _check_yen(self.income_tax_taxable_income, "income_tax_taxable_income")


@dataclass(frozen=True)
class Donations:
    furusato: int = 0  # 都道府県・市区町村に対する寄附金（特例控除の対象）
    designated_city: int = 0  # 市区町村の条例で指定する寄附金
    designated_prefecture: int = 0  # 都道府県の条例で指定する寄附金

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            _check_yen(value, name)


@dataclass(frozen=True)
class ForeignTaxCredit:
    city: int = 0
    prefecture: int = 0

    def __post_init__(self) -> None:
        _check_yen(self.city, "city")
        _check_yen(self.prefecture, "prefecture")


@dataclass(frozen=True)
class TaxpayerInput:
    """The previous calendar year's income and circumstances of one taxpayer."""

    age: int  # 前年12月31日現在 (公的年金等控除の65歳判定)
    age_on_january_1: int | None = None  # 賦課期日 (未成年者の判定); None → age
    salary_revenue: int = 0
    pension_revenue: int = 0
    business_income: int = 0
    real_estate_income: int = 0
    dividend_income: int = 0
    misc_income: int = 0
    occasional_income: int = 0  # 一時所得 (2分の1後)
    social_insurance: int = 0
    small_business_mutual_aid: int = 0
    life_insurance: LifeInsurancePremiums = LifeInsurancePremiums()
    earthquake_insurance: int = 0
    old_long_term_insurance: int = 0
    medical_expenses: MedicalExpenses = MedicalExpenses()
    disability: Disability = Disability.NONE
    family_status: FamilyStatus = FamilyStatus.NONE
    sex: Sex | None = None
    single_parent_child_income: int = 0
    working_student: bool = False
    public_assistance: bool = False
    spouse: Spouse | None = None
    dependants: tuple[Dependant, ...] = ()
    housing_loan: HousingLoan | None = None
    donations: Donations = Donations()
    dividend_credit_base: int = 0
    foreign_tax_credit: ForeignTaxCredit = ForeignTaxCredit()

    def __post_init__(self) -> None:
        _check_age(self.age, "age")
        if self.age_on_january_1 is not None:
            _check_age(self.age_on_january_1, "age_on_january_1")
        for name in _TAXPAYER_AMOUNTS:
            _check_yen(getattr(self, name), name)
        for name in ("working_student", "public_assistance"):
            _check_bool(getattr(self, name), name)
        _check_enum(self.disability, "disability", Disability)
        if self.disability is Disability.SPECIAL_COHABITING:
            raise RuleInputError("disability", "本人の障害者の区分は none・ordinary・special です")
        _check_enum(self.family_status, "family_status", FamilyStatus)
        if self.sex is not None:
            _check_enum(self.sex, "sex", Sex)
        if self.family_status is FamilyStatus.SINGLE_PARENT and self.sex is None:
            raise RuleInputError("sex", "ひとり親の場合は性別（female / male）が必要です")
        if self.family_status is FamilyStatus.WIDOW and self.sex is Sex.MALE:
            raise RuleInputError("family_status", "寡婦は女性に限ります（男性はひとり親）")
        if self.dividend_credit_base > self.dividend_income:
            raise RuleInputError(
                "dividend_credit_base", "配当控除の対象となる配当所得が配当所得を超えています"
            )
        for name, kind in _TAXPAYER_NESTED.items():
            if not isinstance(getattr(self, name), kind):
                raise RuleInputError(name, f"{_label(name)}の形式が正しくありません")
        if self.spouse is not None and not isinstance(self.spouse, Spouse):
            raise RuleInputError("spouse", "配偶者の形式が正しくありません")
        if self.housing_loan is not None and not isinstance(self.housing_loan, HousingLoan):
            raise RuleInputError("housing_loan", "住宅借入金等特別税額控除の形式が正しくありません")
        if not isinstance(self.dependants, tuple) or not all(
            isinstance(d, Dependant) for d in self.dependants
        ):
            raise RuleInputError("dependants", "扶養親族等は Dependant のタプルです")

    @property
    def minor(self) -> bool:
        """未成年者 on 1月1日 of the 年度 (18歳未満)."""
        on_jan_1 = self.age if self.age_on_january_1 is None else self.age_on_january_1
        return on_jan_1 < 18


_TAXPAYER_AMOUNTS: Final[tuple[str, ...]] = (
    "salary_revenue",
    "pension_revenue",
    "business_income",
    "real_estate_income",
    "dividend_income",
    "misc_income",
    "occasional_income",
    "social_insurance",
    "small_business_mutual_aid",
    "earthquake_insurance",
    "old_long_term_insurance",
    "single_parent_child_income",
    "dividend_credit_base",
)
_TAXPAYER_NESTED: Final[dict[str, type]] = {
    "life_insurance": LifeInsurancePremiums,
    "medical_expenses": MedicalExpenses,
    "donations": Donations,
    "foreign_tax_credit": ForeignTaxCredit,
}


# --- JSON からの入力 ------------------------------------------------------------------------------

_E = TypeVar("_E", bound=StrEnum)
_T = TypeVar("_T")


def _join(path: str, name: str) -> str:
    if not path:
        return name
    return f"{path}{name}" if name.startswith("[") else f"{path}.{name}"


class _Reader:
    """Reads one JSON object; errors name the full path."""

    def __init__(self, data: object, path: str, allowed: Sequence[str]) -> None:
        if not isinstance(data, Mapping):
            raise RuleInputError(path or "(入力)", "キーと値の組（オブジェクト）で入力してください")
        for key in data:
            if not isinstance(key, str) or key not in allowed:
                raise RuleInputError(_join(path, str(key)), "不明な項目です")
        self.data: Mapping[str, object] = data
        self.path = path

    def error(self, key: str, message: str) -> RuleInputError:
        return RuleInputError(_join(self.path, key), message)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, f"{_label(key)}は必須項目です")
        if not _is_int(value):
            raise self.error(key, f"{_label(key)}は整数で入力してください（{value!r}）")
        assert isinstance(value, int)
        return value

    def optional_integer(self, key: str) -> int | None:
        if self.data.get(key) is None:
            return None
        return self.integer(key)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"{_label(key)}は true か false で入力してください")
        return value

    def choice(self, key: str, enum: type[_E], default: _E | None) -> _E | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            try:
                return enum(value)
            except ValueError:
                pass
        allowed = "、".join(m.value for m in enum)
        raise self.error(key, f"{_label(key)}は次のいずれかです: {allowed}（{value!r}）")

    def sub(self, key: str, allowed: Sequence[str]) -> _Reader | None:
        value = self.data.get(key)
        if value is None:
            return None
        return _Reader(value, _join(self.path, key), allowed)


def _build(path: str, factory: Callable[[], _T]) -> _T:
    try:
        return factory()
    except RuleInputError as exc:
        raise RuleInputError(_join(path, exc.field), exc.message) from None


_TOP_KEYS: Final[tuple[str, ...]] = (
    "age",
    "age_on_january_1",
    *_TAXPAYER_AMOUNTS,
    "life_insurance",
    "medical_expenses",
    "disability",
    "family_status",
    "sex",
    "working_student",
    "public_assistance",
    "spouse",
    "dependants",
    "housing_loan",
    "donations",
    "foreign_tax_credit",
)
_LIFE_KEYS: Final = ("new_general", "new_medical_care", "new_pension", "old_general", "old_pension")
_MEDICAL_KEYS: Final = ("paid", "reimbursed")
_SPOUSE_KEYS: Final = ("income", "age", "same_household", "disability")
_DEPENDANT_KEYS: Final = ("age", "income", "cohabiting_parent", "disability")
_HOUSING_KEYS: Final = ("available", "special", "income_tax_taxable_income")
_DONATION_KEYS: Final = ("furusato", "designated_city", "designated_prefecture")
_FOREIGN_KEYS: Final = ("city", "prefecture")


def _dependant(value: object, path: str) -> Dependant:
    r = _Reader(value, path, _DEPENDANT_KEYS)
    age = r.integer("age")
    income = r.integer("income", 0)
    parent = r.flag("cohabiting_parent")
    disability = r.choice("disability", Disability, Disability.NONE)
    assert disability is not None
    return _build(path, lambda: Dependant(age, income, parent, disability))


def taxpayer_from_mapping(data: Mapping[str, object]) -> TaxpayerInput:
    """A ``TaxpayerInput`` from a JSON-like dict (shape in the module docstring)."""
    r = _Reader(data, "", _TOP_KEYS)
    amounts = {name: r.integer(name, 0) for name in _TAXPAYER_AMOUNTS}

    life = LifeInsurancePremiums()
    if (lr := r.sub("life_insurance", _LIFE_KEYS)) is not None:
        values = {k: lr.integer(k, 0) for k in _LIFE_KEYS}
        life = _build(lr.path, lambda: LifeInsurancePremiums(**values))
    medical = MedicalExpenses()
    if (mr := r.sub("medical_expenses", _MEDICAL_KEYS)) is not None:
        paid, reimbursed = mr.integer("paid", 0), mr.integer("reimbursed", 0)
        medical = _build(mr.path, lambda: MedicalExpenses(paid, reimbursed))
    spouse: Spouse | None = None
    if (sr := r.sub("spouse", _SPOUSE_KEYS)) is not None:
        s_income, s_age = sr.integer("income", 0), sr.integer("age")
        s_same = sr.flag("same_household", True)
        s_dis = sr.choice("disability", Disability, Disability.NONE)
        assert s_dis is not None
        spouse = _build(sr.path, lambda: Spouse(s_income, s_age, s_same, s_dis))
    raw_dependants = r.data.get("dependants", [])
    if raw_dependants is None:
        raw_dependants = []
    if not isinstance(raw_dependants, list | tuple):
        raise r.error("dependants", "扶養親族等は配列（リスト）で入力してください")
    dependants = tuple(_dependant(d, f"dependants[{i}]") for i, d in enumerate(raw_dependants))
    housing: HousingLoan | None = None
    if (hr := r.sub("housing_loan", _HOUSING_KEYS)) is not None:
        h_available, h_special = hr.integer("available", 0), hr.flag("special")
        h_base = hr.optional_integer("income_tax_taxable_income")
        housing = _build(hr.path, lambda: HousingLoan(h_available, h_special, h_base))
    donations = Donations()
    if (dr := r.sub("donations", _DONATION_KEYS)) is not None:
        d_values = {k: dr.integer(k, 0) for k in _DONATION_KEYS}
        donations = _build(dr.path, lambda: Donations(**d_values))
    foreign = ForeignTaxCredit()
    if (fr := r.sub("foreign_tax_credit", _FOREIGN_KEYS)) is not None:
        f_city, f_pref = fr.integer("city", 0), fr.integer("prefecture", 0)
        foreign = _build(fr.path, lambda: ForeignTaxCredit(f_city, f_pref))

    disability = r.choice("disability", Disability, Disability.NONE)
    family_status = r.choice("family_status", FamilyStatus, FamilyStatus.NONE)
    assert disability is not None and family_status is not None
    return _build(
        "",
        lambda: TaxpayerInput(
            age=r.integer("age"),
            age_on_january_1=r.optional_integer("age_on_january_1"),
            life_insurance=life,
            medical_expenses=medical,
            disability=disability,
            family_status=family_status,
            sex=r.choice("sex", Sex, None),
            working_student=r.flag("working_student"),
            public_assistance=r.flag("public_assistance"),
            spouse=spouse,
            dependants=dependants,
            housing_loan=housing,
            donations=donations,
            foreign_tax_credit=foreign,
            **amounts,
        ),
    )


# --- 所得 ---------------------------------------------------------------------------------------

# 令和7年度 (所得税法別表第五, 令和2年分以後): 1,619,000円以上1,628,000円未満の定額.
_R7_FLAT_STEPS: Final[tuple[tuple[int, int], ...]] = (
    (1_620_000, 1_069_000),
    (1_622_000, 1_070_000),
    (1_624_000, 1_072_000),
    (1_628_000, 1_074_000),
)


def _kyuyo(revenue: int, fiscal_year: int) -> tuple[int, str]:
    """給与所得 (給与所得控除後の金額) and the arithmetic as text."""
    _check_year(fiscal_year)
    _check_yen(revenue, "salary_revenue")
    a, r = revenue, yen(revenue)
    if a >= 8_500_000:
        v = a - 1_950_000
        return v, f"{r} − 1,950,000（給与所得控除の上限） = {yen(v)}"
    if a >= 6_600_000:
        v = a * 9 // 10 - 1_100_000
        return v, f"{r} × 90% − 1,100,000 = {yen(v)}（1円未満切捨て）"
    # 660万円未満は所得税法別表第五による.
    minimum = 650_000 if fiscal_year >= 2026 else 550_000
    flat_until = 1_900_000 if fiscal_year >= 2026 else 1_619_000
    if a < minimum + 1_000:  # 要確認: 別表第五は「651,000円未満 → 0」(三芳町は「650,000円以下」)
        return 0, f"{r} < {yen(minimum + 1_000)}（所得税法別表第五） → 0"
    if a < flat_until:
        v = a - minimum
        return v, f"{r} − {yen(minimum)}（給与所得控除の最低額） = {yen(v)}"
    if fiscal_year < 2026 and a < 1_628_000:
        v = next(amount for upper, amount in _R7_FLAT_STEPS if a < upper)
        return v, f"所得税法別表第五の定額（給与収入 {r}） = {yen(v)}"
    b = a // 4_000 * 1_000  # 収入 ÷ 4 の千円未満切捨て
    if a < 1_800_000:
        v, formula = b * 24 // 10 + 100_000, "× 2.4 + 100,000"
    elif a < 3_600_000:
        v, formula = b * 28 // 10 - 80_000, "× 2.8 − 80,000"
    else:
        v, formula = b * 32 // 10 - 440_000, "× 3.2 − 440,000"
    return v, (
        f"所得税法別表第五: {r} ÷ 4（千円未満切捨て） = {yen(b)}; {yen(b)} {formula} = {yen(v)}"
    )


def kyuyo_shotoku(revenue: int, fiscal_year: int) -> int:
    """給与所得 (before 所得金額調整控除) for 給与収入 ``revenue`` under the 年度's table."""
    return _kyuyo(revenue, fiscal_year)[0]


def _ceil_pct(amount: int, percent: int) -> int:
    return -(-amount * percent // 100)


def pension_deduction(revenue: int, age: int, other_income: int) -> int:
    """公的年金等控除額 (令和2年分以後).

    ``other_income`` is 公的年金等に係る雑所得以外の合計所得金額.
    """
    _check_yen(revenue, "pension_revenue")
    _check_age(age, "age")
    _check_yen(other_income, "other_income")
    r = revenue
    if r < (3_300_000 if age >= 65 else 1_300_000):
        d = 1_100_000 if age >= 65 else 600_000
    elif r < 4_100_000:
        d = _ceil_pct(r, 25) + 275_000
    elif r < 7_700_000:
        d = _ceil_pct(r, 15) + 685_000
    elif r < 10_000_000:
        d = _ceil_pct(r, 5) + 1_455_000
    else:
        d = 1_955_000
    if other_income > 20_000_000:
        d -= 200_000
    elif other_income > 10_000_000:
        d -= 100_000
    return d


def nenkin_shotoku(revenue: int, age: int, other_income: int, fiscal_year: int) -> int:
    """公的年金等に係る雑所得; ``age`` on 12/31 of the income year (65歳以上の控除)."""
    _check_year(fiscal_year)  # 令和3年度以後変わらないが、対応年度だけを受け付ける
    return max(0, revenue - pension_deduction(revenue, age, other_income))


def _pension_basis(revenue: int, age: int, other_income: int) -> str:
    d = pension_deduction(revenue, age, other_income)
    band = "65歳以上" if age >= 65 else "65歳未満"
    extra = ""
    if other_income > 10_000_000:
        extra = f"（年金以外の合計所得 {yen(other_income)} により減額）"
    v = max(0, revenue - d)
    return f"{yen(revenue)} − 公的年金等控除 {yen(d)}（{band}）{extra} = {yen(v)}"


# --- 所得控除 -----------------------------------------------------------------------------------


def _life_new(premium: int) -> int:
    if premium <= 12_000:
        return premium
    if premium <= 32_000:
        return -(-premium // 2) + 6_000
    if premium <= 56_000:
        return -(-premium // 4) + 14_000
    return 28_000


def _life_old(premium: int) -> int:
    if premium <= 15_000:
        return premium
    if premium <= 40_000:
        return -(-premium // 2) + 7_500
    if premium <= 70_000:
        return -(-premium // 4) + 17_500
    return 35_000


def _life_category(new: int, old: int) -> int:
    if new and old:
        return max(_life_old(old), min(_life_new(new) + _life_old(old), 28_000))
    if old:
        return _life_old(old)
    return _life_new(new)


def life_insurance_deduction(premiums: LifeInsurancePremiums) -> int:
    """住民税の生命保険料控除 (第314条の2第1項): per category, then at most 70,000 in total."""
    total = (
        _life_category(premiums.new_general, premiums.old_general)
        + _life_new(premiums.new_medical_care)
        + _life_category(premiums.new_pension, premiums.old_pension)
    )
    return min(total, 70_000)


def earthquake_insurance_deduction(earthquake: int, old_long_term: int = 0) -> int:
    """住民税の地震保険料控除: 地震保険料 × 1/2 (max 25,000) + 旧長期損害保険料; 合計 max 25,000."""
    quake = min(-(-earthquake // 2), 25_000)
    if old_long_term <= 5_000:
        long_term = old_long_term
    elif old_long_term <= 15_000:
        long_term = -(-old_long_term // 2) + 2_500
    else:
        long_term = 10_000
    return min(quake + long_term, 25_000)


def medical_expense_deduction(paid: int, reimbursed: int, gross_income: int) -> int:
    """医療費控除: 支払額 − 補填額 − min(100,000, 総所得金額等 × 5%), max 2,000,000."""
    threshold = min(100_000, gross_income * 5 // 100)
    return min(max(0, paid - reimbursed - threshold), 2_000_000)


def basic_deduction(total_income: int) -> int:
    """住民税の基礎控除 (第314条の2第2項): 43万 / 29万 / 15万 / 0 by 合計所得金額."""
    if total_income <= 24_000_000:
        return 430_000
    if total_income <= 24_500_000:
        return 290_000
    if total_income <= 25_000_000:
        return 150_000
    return 0


# 配偶者控除・配偶者特別控除: 本人の合計所得 ≤900万 / ≤950万 / ≤1,000万 の列.
_SPOUSE_GENERAL: Final = (330_000, 220_000, 110_000)
_SPOUSE_ELDERLY: Final = (380_000, 260_000, 130_000)
_SPOUSE_GENERAL_DIFF: Final = (50_000, 40_000, 20_000)
_SPOUSE_ELDERLY_DIFF: Final = (100_000, 60_000, 30_000)
# 配偶者特別控除: (配偶者の合計所得の上限（以下）, 控除額の列). 下限は spouse_income_limit 超.
# 令和8年度は下限だけが 48万 → 58万 に移り、以下の区分は変わらない（要確認: 所得税の改正と同じ形）.
_SPOUSE_SPECIAL_BANDS: Final[tuple[tuple[int, tuple[int, int, int]], ...]] = (
    (1_000_000, (330_000, 220_000, 110_000)),
    (1_050_000, (310_000, 210_000, 110_000)),
    (1_100_000, (260_000, 180_000, 90_000)),
    (1_150_000, (210_000, 140_000, 70_000)),
    (1_200_000, (160_000, 110_000, 60_000)),
    (1_250_000, (110_000, 80_000, 40_000)),
    (1_300_000, (60_000, 40_000, 20_000)),
    (1_330_000, (30_000, 20_000, 10_000)),
)
# 特定親族特別控除 (令和8年度から; 19〜22歳, 合計所得 58万超123万以下): (上限（以下）, 控除額).
_SPECIFIED_RELATIVE_BANDS: Final[tuple[tuple[int, int], ...]] = (
    (950_000, 450_000),
    (1_000_000, 410_000),
    (1_050_000, 310_000),
    (1_100_000, 210_000),
    (1_150_000, 110_000),
    (1_200_000, 60_000),
    (1_230_000, 30_000),
)
_DISABILITY_DEDUCTION: Final[Mapping[Disability, tuple[int, int, str]]] = {
    # (控除額, 人的控除差, 表記)
    Disability.ORDINARY: (260_000, 10_000, "障害者"),
    Disability.SPECIAL: (300_000, 100_000, "特別障害者"),
    Disability.SPECIAL_COHABITING: (530_000, 220_000, "同居特別障害者"),
}

LAW_DEDUCTION: Final = "地方税法第314条の2・第34条"


@dataclass(frozen=True)
class _Item:
    key: str
    label: str
    amount: int
    basis: str
    diff: int = 0  # 調整控除の人的控除差
    diff_label: str = ""


@dataclass(frozen=True)
class _Incomes:
    salary: int  # 所得金額調整控除後
    pension: int
    total: int  # 合計所得金額
    gross: int  # 総所得金額等
    non_work: int  # 勤労学生の判定に使う勤労以外の所得


def _income_column(total_income: int) -> int | None:
    if total_income <= 9_000_000:
        return 0
    if total_income <= 9_500_000:
        return 1
    if total_income <= 10_000_000:
        return 2
    return None


def _same_household_spouse(tp: TaxpayerInput, p: ResidentTaxParams) -> bool:
    s = tp.spouse
    return s is not None and s.same_household and s.income <= p.spouse_income_limit


def _dependants(tp: TaxpayerInput, p: ResidentTaxParams) -> list[Dependant]:
    """扶養親族 (16歳未満を含む): 合計所得が扶養の所得要件以下の親族."""
    return [d for d in tp.dependants if d.income <= p.dependant_income_limit]


# --- 結果 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """An amount split between 市町村民税 (``city``) and 道府県民税 (``prefecture``)."""

    city: int = 0
    prefecture: int = 0

    @property
    def total(self) -> int:
        return self.city + self.prefecture


@dataclass(frozen=True)
class ResidentTaxAssessment:
    fiscal_year: int
    total_income: int  # 合計所得金額
    gross_income: int  # 総所得金額等
    deductions: int  # 所得控除合計
    deduction_items: tuple[tuple[str, int], ...]  # (trace key, amount)
    taxable_income: int  # 課税総所得金額 (1,000円未満切捨て)
    household_count: int  # 非課税判定の人数 N (本人 + 同一生計配偶者 + 扶養親族)
    exemption: Exemption
    exemption_reason: str
    levy_computed: Split  # 算出所得割額
    adjustment_credit: Split  # 調整控除
    dividend_credit: Split
    housing_loan_credit: Split
    donation_credit: Split
    foreign_tax_credit: Split
    income_levy: Split  # 所得割額 (税額控除後、100円未満切捨て)
    per_capita: Split  # 均等割 (道府県分は超過課税を含む)
    forest_environment_tax: int
    total: int
    trace: Trace = field(compare=False)

    @property
    def credits(self) -> Split:
        parts = (
            self.adjustment_credit,
            self.dividend_credit,
            self.housing_loan_credit,
            self.donation_credit,
            self.foreign_tax_credit,
        )
        return Split(sum(s.city for s in parts), sum(s.prefecture for s in parts))


# --- 計算 ---------------------------------------------------------------------------------------


def _pct(rate: int) -> str:
    """Rate in 1/100,000 units as a percentage: 6000 → 6%, 4025 → 4.025%."""
    whole, frac = divmod(rate, 1_000)
    return f"{whole}.{frac:03d}".rstrip("0") + "%" if frac else f"{whole}%"


def _incomes(tp: TaxpayerInput, p: ResidentTaxParams, trace: Trace) -> _Incomes:
    law_salary = "所得税法第28条・別表第五（地方税法第313条第2項により所得税法の例による）"
    g = "所得"
    salary = 0
    if tp.salary_revenue:
        salary, basis = _kyuyo(tp.salary_revenue, p.fiscal_year)
        trace.add("income.salary", "給与所得（給与所得控除後）", salary, basis, law_salary, g)
    # 所得金額調整控除 (1): 給与収入850万円超で、本人・同一生計配偶者・扶養親族が特別障害者
    # であるか、23歳未満の扶養親族がいる.
    family = _dependants(tp, p)
    special = {Disability.SPECIAL, Disability.SPECIAL_COHABITING}
    qualifies = (
        tp.disability in special
        or (
            _same_household_spouse(tp, p)
            and tp.spouse is not None
            and tp.spouse.disability in special
        )
        or any(d.disability in special or d.age < 23 for d in family)
    )
    adjust = 0
    law_adjust = "租税特別措置法第41条の3の3（地方税法第313条第2項）"
    if tp.salary_revenue > 8_500_000 and qualifies:
        adjust = _ceil_pct(min(tp.salary_revenue, 10_000_000) - 8_500_000, 10)
        trace.add(
            "income.adjustment_family",
            "所得金額調整控除（子ども・特別障害者等）",
            adjust,
            f"(min({yen(tp.salary_revenue)}, 10,000,000) − 8,500,000) × 10% = {yen(adjust)}",
            law_adjust,
            g,
        )
    salary_after = salary - adjust
    others = (
        tp.business_income
        + tp.real_estate_income
        + tp.dividend_income
        + tp.misc_income
        + tp.occasional_income
    )
    pension = 0
    if tp.pension_revenue:
        other = salary_after + others
        pension = max(0, tp.pension_revenue - pension_deduction(tp.pension_revenue, tp.age, other))
        trace.add(
            "income.pension",
            "公的年金等に係る雑所得",
            pension,
            _pension_basis(tp.pension_revenue, tp.age, other),
            "所得税法第35条第4項",
            g,
        )
    # 所得金額調整控除 (2): 給与所得と公的年金等に係る雑所得の両方があり、合計が10万円超.
    if salary_after > 0 and pension > 0 and salary_after + pension > 100_000:
        both = min(salary_after, 100_000) + min(pension, 100_000) - 100_000
        trace.add(
            "income.adjustment_pension",
            "所得金額調整控除（給与・年金）",
            both,
            f"min({yen(salary_after)}, 100,000) + min({yen(pension)}, 100,000) − 100,000"
            f" = {yen(both)}",
            law_adjust,
            g,
        )
        salary_after -= both
    if salary_after != salary:
        trace.add(
            "income.salary_adjusted",
            "給与所得（所得金額調整控除後）",
            salary_after,
            f"{yen(salary)} − {yen(salary - salary_after)} = {yen(salary_after)}",
            law_adjust,
            g,
        )
    for key, label, amount in (
        ("business", "事業所得", tp.business_income),
        ("real_estate", "不動産所得", tp.real_estate_income),
        ("dividend", "配当所得", tp.dividend_income),
        ("misc", "雑所得（公的年金等以外）", tp.misc_income),
        ("occasional", "一時所得（2分の1後）", tp.occasional_income),
    ):
        if amount:
            trace.add(f"income.{key}", label, amount, "申告等による所得金額", "地方税法第313条", g)
    total = salary_after + pension + others
    named = (
        ("給与", salary_after),
        ("年金", pension),
        ("事業", tp.business_income),
        ("不動産", tp.real_estate_income),
        ("配当", tp.dividend_income),
        ("雑", tp.misc_income),
        ("一時", tp.occasional_income),
    )
    shown = " + ".join(f"{name} {yen(v)}" for name, v in named if v) or "0"
    trace.add(
        "income.total",
        "合計所得金額",
        total,
        f"{shown} = {yen(total)}",
        "地方税法第292条第1項第13号",
        g,
    )
    trace.add(
        "income.gross",
        "総所得金額等",
        total,
        "合計所得金額と同じ（分離課税の所得・繰越控除の入力なし）",
        "地方税法第313条",
        g,
    )
    non_work = tp.real_estate_income + tp.dividend_income + tp.occasional_income + pension
    return _Incomes(salary_after, pension, total, total, non_work)


def _deduction_items(tp: TaxpayerInput, p: ResidentTaxParams, inc: _Incomes) -> list[_Item]:
    items: list[_Item] = []
    med = tp.medical_expenses
    if med.paid:
        amount = medical_expense_deduction(med.paid, med.reimbursed, inc.gross)
        threshold = min(100_000, inc.gross * 5 // 100)
        items.append(
            _Item(
                "deduction.medical",
                "医療費控除",
                amount,
                f"{yen(med.paid)} − {yen(med.reimbursed)} − min(100,000, {yen(inc.gross)} × 5%)"
                f" = {yen(med.paid)} − {yen(med.reimbursed)} − {yen(threshold)}"
                f" → {yen(amount)}（上限 2,000,000）",
            )
        )
    if tp.social_insurance:
        items.append(
            _Item(
                "deduction.social_insurance",
                "社会保険料控除",
                tp.social_insurance,
                f"支払額 {yen(tp.social_insurance)}",
            )
        )
    if tp.small_business_mutual_aid:
        items.append(
            _Item(
                "deduction.small_business",
                "小規模企業共済等掛金控除",
                tp.small_business_mutual_aid,
                f"支払額 {yen(tp.small_business_mutual_aid)}",
            )
        )
    li = tp.life_insurance
    if any((li.new_general, li.new_medical_care, li.new_pension, li.old_general, li.old_pension)):
        general = _life_category(li.new_general, li.old_general)
        care = _life_new(li.new_medical_care)
        pension = _life_category(li.new_pension, li.old_pension)
        amount = life_insurance_deduction(li)
        items.append(
            _Item(
                "deduction.life_insurance",
                "生命保険料控除",
                amount,
                f"一般 {yen(general)} + 介護医療 {yen(care)} + 個人年金 {yen(pension)}"
                f" = {yen(general + care + pension)}（上限 70,000） → {yen(amount)}",
            )
        )
    if tp.earthquake_insurance or tp.old_long_term_insurance:
        amount = earthquake_insurance_deduction(tp.earthquake_insurance, tp.old_long_term_insurance)
        basis = f"地震保険料 {yen(tp.earthquake_insurance)} × 1/2"
        if tp.old_long_term_insurance:
            basis += f" + 旧長期損害保険料 {yen(tp.old_long_term_insurance)} の控除額"
        items.append(
            _Item(
                "deduction.earthquake",
                "地震保険料控除",
                amount,
                f"{basis} → {yen(amount)}（上限 25,000）",
            )
        )
    # 障害者控除: 本人、同一生計配偶者、扶養親族（16歳未満を含む）.
    if tp.disability in _DISABILITY_DEDUCTION:
        amount, diff, name = _DISABILITY_DEDUCTION[tp.disability]
        items.append(
            _Item(
                "deduction.disability.self", f"障害者控除（本人・{name}）", amount, name, diff, name
            )
        )
    spouse = tp.spouse
    if (
        spouse is not None
        and _same_household_spouse(tp, p)
        and spouse.disability in _DISABILITY_DEDUCTION
    ):
        amount, diff, name = _DISABILITY_DEDUCTION[spouse.disability]
        items.append(
            _Item(
                "deduction.disability.spouse",
                f"障害者控除（配偶者・{name}）",
                amount,
                f"同一生計配偶者が{name}",
                diff,
                f"配偶者の{name}",
            )
        )
    for i, d in enumerate(tp.dependants):
        if d.income <= p.dependant_income_limit and d.disability in _DISABILITY_DEDUCTION:
            amount, diff, name = _DISABILITY_DEDUCTION[d.disability]
            items.append(
                _Item(
                    f"deduction.disability.dependant.{i + 1}",
                    f"障害者控除（扶養親族{i + 1}・{name}）",
                    amount,
                    f"扶養親族（{d.age}歳）が{name}",
                    diff,
                    f"扶養親族の{name}",
                )
            )
    # 寡婦控除・ひとり親控除 (本人の合計所得 500万円以下).
    if tp.family_status is not FamilyStatus.NONE and inc.total <= 5_000_000:
        if tp.family_status is FamilyStatus.WIDOW:
            items.append(
                _Item(
                    "deduction.widow",
                    "寡婦控除",
                    260_000,
                    "寡婦（合計所得 500万円以下）",
                    10_000,
                    "寡婦",
                )
            )
        elif tp.single_parent_child_income <= p.single_parent_child_income_limit:
            mother = tp.sex is Sex.FEMALE
            items.append(
                _Item(
                    "deduction.single_parent",
                    "ひとり親控除",
                    300_000,
                    f"ひとり親（合計所得 500万円以下、子の総所得金額等 "
                    f"{yen(tp.single_parent_child_income)}"
                    f" ≤ {yen(p.single_parent_child_income_limit)}）",
                    50_000 if mother else 10_000,
                    "ひとり親（母）" if mother else "ひとり親（父）",
                )
            )
    if (
        tp.working_student
        and inc.total <= p.working_student_income_limit
        and inc.non_work <= 100_000
    ):
        items.append(
            _Item(
                "deduction.working_student",
                "勤労学生控除",
                260_000,
                f"合計所得 {yen(inc.total)} ≤ {yen(p.working_student_income_limit)}",
                10_000,
                "勤労学生",
            )
        )
    column = _income_column(inc.total)
    if spouse is not None and spouse.same_household and column is not None:
        items.extend(_spouse_items(spouse, column, p))
    for i, d in enumerate(tp.dependants):
        item = _dependant_item(i, d, p)
        if item is not None:
            items.append(item)
    basic = basic_deduction(inc.total)
    items.append(
        _Item(
            "deduction.basic",
            "基礎控除",
            basic,
            f"合計所得金額 {yen(inc.total)}（2,400万円以下 430,000、2,450万円以下 290,000、"
            "2,500万円以下 150,000、超 0）",
            50_000,
            "基礎",
        )
    )
    return items


def _spouse_items(spouse: Spouse, column: int, p: ResidentTaxParams) -> list[_Item]:
    limit = p.spouse_income_limit
    who = f"本人の合計所得 {['900万円以下', '950万円以下', '1,000万円以下'][column]}"
    if spouse.income <= limit:
        elderly = spouse.age >= 70
        table = _SPOUSE_ELDERLY if elderly else _SPOUSE_GENERAL
        diffs = _SPOUSE_ELDERLY_DIFF if elderly else _SPOUSE_GENERAL_DIFF
        kind = "老人控除対象配偶者" if elderly else "一般の控除対象配偶者"
        return [
            _Item(
                "deduction.spouse",
                f"配偶者控除（{kind}）",
                table[column],
                f"配偶者の合計所得 {yen(spouse.income)} ≤ {yen(limit)}、{spouse.age}歳、{who}",
                diffs[column],
                f"配偶者（{'老人' if elderly else '一般'}）",
            )
        ]
    for upper, amounts in _SPOUSE_SPECIAL_BANDS:
        if spouse.income <= upper:
            # 人的控除差: 下限超〜下限+2万未満 → 5/4/2万, 下限+2万以上〜下限+7万未満 → 3/2/1万.
            # 令和8年度（下限58万）は 58万超60万未満・60万以上65万未満 とした（要確認: 類推）.
            if spouse.income < limit + 20_000:
                diff = (50_000, 40_000, 20_000)[column]
            elif spouse.income < limit + 70_000:
                diff = (30_000, 20_000, 10_000)[column]
            else:
                diff = 0
            return [
                _Item(
                    "deduction.spouse_special",
                    "配偶者特別控除",
                    amounts[column],
                    f"配偶者の合計所得 {yen(spouse.income)}"
                    f"（{yen(limit)} 超 {yen(upper)} 以下）、{who}",
                    diff,
                    "配偶者特別",
                )
            ]
    return []


def _dependant_item(i: int, d: Dependant, p: ResidentTaxParams) -> _Item | None:
    n = i + 1
    if d.income <= p.dependant_income_limit:
        if d.age < 16:
            return None  # 年少扶養親族: 控除なし（非課税判定の人数には数える）
        if 19 <= d.age <= 22:
            kind, amount, diff = "特定扶養親族", 450_000, 180_000
        elif d.age >= 70 and d.cohabiting_parent:
            kind, amount, diff = "同居老親等", 450_000, 130_000
        elif d.age >= 70:
            kind, amount, diff = "老人扶養親族", 380_000, 100_000
        else:
            kind, amount, diff = "一般の扶養親族", 330_000, 50_000
        return _Item(
            f"deduction.dependant.{n}",
            f"扶養控除（{kind}・{n}人目）",
            amount,
            f"{d.age}歳、合計所得 {yen(d.income)} ≤ {yen(p.dependant_income_limit)}",
            diff,
            f"扶養（{kind}）",
        )
    if p.specified_relative_deduction and 19 <= d.age <= 22:
        for upper, amount in _SPECIFIED_RELATIVE_BANDS:
            if d.income <= upper:
                return _Item(
                    f"deduction.specified_relative.{n}",
                    f"特定親族特別控除（{n}人目）",
                    amount,
                    f"{d.age}歳、合計所得 {yen(d.income)}（{yen(p.dependant_income_limit)} 超"
                    f" {yen(upper)} 以下）",
                    0,  # 要確認: 調整控除の人的控除差（改正後の第314条の6 未確認）
                    "特定親族特別",
                )
    return None


def _exemption(
    tp: TaxpayerInput, p: ResidentTaxParams, inc: _Incomes, n: int, trace: Trace
) -> tuple[Exemption, str]:
    g = "非課税"
    if tp.public_assistance:
        reason = "生活保護法の生活扶助を受けている"
        trace.note("exemption", f"全部非課税: {reason}", "", "地方税法第295条第1項第1号", g)
        return Exemption.FULL, reason
    statuses = []
    if tp.disability is not Disability.NONE:
        statuses.append("障害者")
    if tp.minor:
        statuses.append("未成年者")
    if tp.family_status is FamilyStatus.WIDOW:
        statuses.append("寡婦")
    if (
        tp.family_status is FamilyStatus.SINGLE_PARENT
        and tp.single_parent_child_income <= p.single_parent_child_income_limit
    ):
        statuses.append("ひとり親")
    if statuses and inc.total <= p.special_exemption_limit:
        reason = (
            f"{'・'.join(statuses)}で合計所得金額 {yen(inc.total)}"
            f" ≤ {yen(p.special_exemption_limit)}"
        )
        trace.note("exemption", f"全部非課税: {reason}", "", "地方税法第295条第1項第2号", g)
        return Exemption.FULL, reason
    addon = p.per_capita_exemption_addon if n > 1 else 0
    limit = p.per_capita_exemption_person * n + p.per_capita_exemption_base + addon
    formula = f"{yen(p.per_capita_exemption_person)} × {n} + {yen(p.per_capita_exemption_base)}"
    if addon:
        formula += f" + {yen(addon)}"
    trace.add(
        "exemption.per_capita_limit",
        f"均等割の非課税限度額（{p.grade}級地、N = {n}）",
        limit,
        f"{formula} = {yen(limit)}",
        "地方税法第295条第3項、同法施行令第47条の3、市町村税条例",
        g,
    )
    if inc.total <= limit:
        reason = f"合計所得金額 {yen(inc.total)} ≤ 均等割の非課税限度額 {yen(limit)}"
        trace.note("exemption", f"全部非課税: {reason}", "", "地方税法第295条第3項", g)
        return Exemption.FULL, reason
    addon = p.income_levy_exemption_addon if n > 1 else 0
    limit = p.income_levy_exemption_person * n + p.income_levy_exemption_base + addon
    formula = f"{yen(p.income_levy_exemption_person)} × {n} + {yen(p.income_levy_exemption_base)}"
    if addon:
        formula += f" + {yen(addon)}"
    trace.add(
        "exemption.income_levy_limit",
        f"所得割の非課税限度額（N = {n}）",
        limit,
        f"{formula} = {yen(limit)}",
        "地方税法附則第3条の3",
        g,
    )
    if inc.gross <= limit:
        reason = f"総所得金額等 {yen(inc.gross)} ≤ 所得割の非課税限度額 {yen(limit)}"
        trace.note("exemption", f"所得割のみ非課税: {reason}", "", "地方税法附則第3条の3", g)
        return Exemption.INCOME_LEVY, reason
    return Exemption.NONE, ""


# 寄附金税額控除の特例控除割合 (90% − 所得税の限界税率 × 1.021; 復興特別所得税は令和19年分まで):
# (課税総所得金額 − 人的控除差調整額 の上限（以下）, 割合 1/100,000).
_FURUSATO_RATES: Final[tuple[tuple[int, int], ...]] = (
    (1_950_000, 84_895),
    (3_300_000, 79_790),
    (6_950_000, 69_580),
    (9_000_000, 66_517),
    (18_000_000, 56_307),
    (40_000_000, 50_420),
)
_FURUSATO_TOP: Final = 45_055
_FURUSATO_NEGATIVE: Final = 90_000


def furusato_special_rate(taxable_income: int, personal_diff: int) -> int:
    """特例控除の割合 (1/100,000) by 課税総所得金額 − 人的控除差調整額."""
    x = taxable_income - personal_diff
    if x < 0:
        return _FURUSATO_NEGATIVE
    for upper, rate in _FURUSATO_RATES:
        if x <= upper:
            return rate
    return _FURUSATO_TOP


# 配当控除率 (附則第5条): (課税総所得1,000万円以下の部分, 超える部分) × (市, 県).
_DIVIDEND_RATES: Final[Mapping[bool, tuple[tuple[int, int], tuple[int, int]]]] = {
    False: ((1_600, 1_200), (800, 600)),
    True: ((2_240, 560), (1_120, 280)),
}


class _Levy:
    """所得割 of one tax (市 or 県) while credits are applied in order."""

    def __init__(self, name: str, computed: int) -> None:
        self.name = name
        self.computed = computed
        self.remaining = computed

    def take(self, amount: int) -> int:
        used = min(amount, self.remaining)
        self.remaining -= used
        return used


def assess(taxpayer: TaxpayerInput, params: ResidentTaxParams) -> ResidentTaxAssessment:
    """個人住民税の税額 (所得割・均等割) と森林環境税, with a step-by-step ``Trace``."""
    tp, p = taxpayer, params
    trace = Trace()
    trace.note(
        "fiscal_year",
        f"{wareki_nendo(p.fiscal_year)}（{p.fiscal_year - 1}年中の所得）",
        f"{p.grade}級地{'・指定都市' if p.designated_city else ''}",
        "地方税法第32条・第313条（前年の所得）",
        "前提",
    )
    inc = _incomes(tp, p, trace)
    items = _deduction_items(tp, p, inc)
    for item in items:
        trace.add(item.key, item.label, item.amount, item.basis, LAW_DEDUCTION, "所得控除")
    for i, d in enumerate(tp.dependants):
        if d.income <= p.dependant_income_limit and d.age < 16:
            why = "年少扶養親族（16歳未満）: 扶養控除なし、非課税判定の人数には数える"
        elif d.income > p.dependant_income_limit and not any(
            it.key == f"deduction.specified_relative.{i + 1}" for it in items
        ):
            why = (
                f"合計所得 {yen(d.income)} > {yen(p.dependant_income_limit)}: 扶養親族に当たらない"
            )
        else:
            continue
        trace.note(
            f"dependant.{i + 1}", f"親族{i + 1}（{d.age}歳）", why, LAW_DEDUCTION, "所得控除"
        )
    deductions = sum(i.amount for i in items)
    trace.add(
        "deduction.total",
        "所得控除合計",
        deductions,
        " + ".join(yen(i.amount) for i in items) + f" = {yen(deductions)}",
        LAW_DEDUCTION,
        "所得控除",
    )
    taxable = max(0, inc.gross - deductions) // 1_000 * 1_000
    trace.add(
        "taxable_income",
        "課税総所得金額",
        taxable,
        f"{yen(inc.gross)} − {yen(deductions)} = {yen(max(0, inc.gross - deductions))}"
        f" → 1,000円未満切捨て {yen(taxable)}",
        "地方税法第313条、第20条の4の2第1項",
        "課税標準",
    )
    n = 1 + int(_same_household_spouse(tp, p)) + len(_dependants(tp, p))
    exemption, reason = _exemption(tp, p, inc, n, trace)

    zero = Split()
    credits: dict[str, Split] = {
        k: zero for k in ("adjustment", "dividend", "housing", "donation", "foreign")
    }
    levy_computed = zero
    income_levy = zero
    if exemption is Exemption.NONE:
        city = _Levy("city", taxable * p.city_rate // RATE_UNIT)
        pref = _Levy("prefecture", taxable * p.prefecture_rate // RATE_UNIT)
        levy_computed = Split(city.computed, pref.computed)
        for levy, rate, label, law in (
            (city, p.city_rate, "市町村民税", "地方税法第314条の3"),
            (pref, p.prefecture_rate, "道府県民税", "地方税法第35条"),
        ):
            trace.add(
                f"levy.{levy.name}",
                f"{label} 算出所得割額",
                levy.computed,
                f"{yen(taxable)} × {_pct(rate)} = {yen(levy.computed)}",
                law,
                "税額",
            )
            if p.rounding is Rounding.BEFORE_CREDITS:
                levy.remaining = levy.computed // 100 * 100
                trace.add(
                    f"levy.{levy.name}.rounded",
                    f"{label} 算出所得割額（100円未満切捨て）",
                    levy.remaining,
                    f"{yen(levy.computed)} → {yen(levy.remaining)}"
                    "（税額控除の前に切捨て: 条例・運用による）",
                    "地方税法第20条の4の2第3項",
                    "税額",
                )
        credits = _credits(tp, p, inc, items, taxable, city, pref, trace)
        income_levy = Split(city.remaining // 100 * 100, pref.remaining // 100 * 100)
        for levy, amount, label in (
            (city, income_levy.city, "市町村民税"),
            (pref, income_levy.prefecture, "道府県民税"),
        ):
            start = (
                levy.computed
                if p.rounding is Rounding.AFTER_CREDITS
                else levy.computed // 100 * 100
            )
            used = start - levy.remaining
            trace.add(
                f"income_levy.{levy.name}",
                f"{label} 所得割額",
                amount,
                f"{yen(start)} − 税額控除 {yen(used)} = {yen(levy.remaining)}"
                f" → 100円未満切捨て {yen(amount)}",
                "地方税法第20条の4の2第3項",
                "結果",
            )
    else:
        why = "全部非課税" if exemption is Exemption.FULL else "所得割非課税"
        for name, label in (("city", "市町村民税"), ("prefecture", "道府県民税")):
            trace.add(f"income_levy.{name}", f"{label} 所得割額", 0, why, "地方税法第295条", "結果")

    if exemption is Exemption.FULL:
        per_capita, forest = zero, 0
        for key, label in (
            ("per_capita.city", "市町村民税 均等割額"),
            ("per_capita.prefecture", "道府県民税 均等割額"),
            ("forest_environment_tax", "森林環境税"),
        ):
            trace.add(key, label, 0, "全部非課税", "地方税法第295条", "結果")
    else:
        pref_total = p.prefecture_per_capita + p.prefecture_per_capita_levy
        per_capita, forest = Split(p.city_per_capita, pref_total), p.forest_environment_tax
        trace.add(
            "per_capita.city",
            "市町村民税 均等割額",
            per_capita.city,
            f"{yen(per_capita.city)}（市町村税条例）",
            "地方税法第310条",
            "結果",
        )
        pref_basis = f"{yen(p.prefecture_per_capita)}"
        if p.prefecture_per_capita_levy:
            pref_basis += (
                f" + {yen(p.prefecture_per_capita_levy)}（{p.prefecture_per_capita_levy_label}）"
                f" = {yen(pref_total)}"
            )
        trace.add(
            "per_capita.prefecture",
            "道府県民税 均等割額",
            pref_total,
            pref_basis,
            "地方税法第38条、道府県税条例",
            "結果",
        )
        trace.add(
            "forest_environment_tax",
            "森林環境税",
            forest,
            f"{yen(forest)}（均等割と併せて課税）",
            "森林環境税及び森林環境譲与税に関する法律",
            "結果",
        )
    total = income_levy.total + per_capita.total + forest
    trace.add(
        "total",
        "年税額",
        total,
        f"所得割 {yen(income_levy.city)} + {yen(income_levy.prefecture)}、均等割 "
        f"{yen(per_capita.city)} + {yen(per_capita.prefecture)}、森林環境税 {yen(forest)}"
        f" = {yen(total)}",
        "地方税法第20条の4の2",
        "結果",
    )
    return ResidentTaxAssessment(
        fiscal_year=p.fiscal_year,
        total_income=inc.total,
        gross_income=inc.gross,
        deductions=deductions,
        deduction_items=tuple((i.key, i.amount) for i in items),
        taxable_income=taxable,
        household_count=n,
        exemption=exemption,
        exemption_reason=reason,
        levy_computed=levy_computed,
        adjustment_credit=credits["adjustment"],
        dividend_credit=credits["dividend"],
        housing_loan_credit=credits["housing"],
        donation_credit=credits["donation"],
        foreign_tax_credit=credits["foreign"],
        income_levy=income_levy,
        per_capita=per_capita,
        forest_environment_tax=forest,
        total=total,
        trace=trace,
    )


def _credits(
    tp: TaxpayerInput,
    p: ResidentTaxParams,
    inc: _Incomes,
    items: list[_Item],
    taxable: int,
    city: _Levy,
    pref: _Levy,
    trace: Trace,
) -> dict[str, Split]:
    """税額控除 in legal order: 調整控除, 配当控除, 住宅借入金等, 寄附金, 外国税額."""
    g = "税額控除"
    out: dict[str, Split] = {}
    share_city, share_pref = p.city_share
    share_total = share_city + share_pref

    # 1. 調整控除 (第314条の6・第37条): 合計所得金額 2,500万円以下.
    diffs = [i for i in items if i.diff]
    personal_diff = sum(i.diff for i in diffs)
    trace.add(
        "adjustment.personal_diff",
        "人的控除額の差の合計額",
        personal_diff,
        " + ".join(f"{i.diff_label} {yen(i.diff)}" for i in diffs) + f" = {yen(personal_diff)}",
        "地方税法第314条の6第1号",
        g,
    )
    rates = (4, 1) if p.designated_city else (3, 2)
    if inc.total > 25_000_000:
        base = 0
        basis = f"合計所得金額 {yen(inc.total)} > 25,000,000 のため適用なし"
    elif taxable <= 2_000_000:
        base = min(personal_diff, taxable)
        basis = f"min({yen(personal_diff)}, {yen(taxable)}) = {yen(base)}"
    else:
        base = max(personal_diff - (taxable - 2_000_000), 50_000)
        basis = f"max({yen(personal_diff)} − ({yen(taxable)} − 2,000,000), 50,000) = {yen(base)}"
    adj = []
    for levy, rate, label, law in (
        (city, rates[0], "市町村民税", "地方税法第314条の6"),
        (pref, rates[1], "道府県民税", "地方税法第37条"),
    ):
        wanted = base * rate // 100
        used = levy.take(wanted)
        adj.append(used)
        trace.add(
            f"credit.adjustment.{levy.name}",
            f"{label} 調整控除",
            used,
            f"{basis}; × {rate}% = {yen(wanted)}"
            + ("" if used == wanted else f"（所得割額 {yen(used)} が限度）"),
            law,
            g,
        )
    out["adjustment"] = Split(adj[0], adj[1])
    after_adjustment = (city.remaining, pref.remaining)

    # 2. 配当控除 (附則第5条).
    div = [0, 0]
    if tp.dividend_credit_base:
        low_rates, high_rates = _DIVIDEND_RATES[p.designated_city]
        high = min(tp.dividend_credit_base, max(0, taxable - 10_000_000))
        low = tp.dividend_credit_base - high
        for idx, (levy, label) in enumerate(((city, "市町村民税"), (pref, "道府県民税"))):
            wanted = (low * low_rates[idx] + high * high_rates[idx]) // RATE_UNIT
            div[idx] = levy.take(wanted)
            basis = f"{yen(low)} × {_pct(low_rates[idx])}"
            if high:
                basis += f" + {yen(high)} × {_pct(high_rates[idx])}（課税総所得1,000万円超の部分）"
            trace.add(
                f"credit.dividend.{levy.name}",
                f"{label} 配当控除",
                div[idx],
                f"{basis} = {yen(wanted)}" + ("" if div[idx] == wanted else "（所得割額が限度）"),
                "地方税法附則第5条",
                g,
            )
    out["dividend"] = Split(div[0], div[1])

    # 3. 住宅借入金等特別税額控除 (附則第5条の4の2).
    house = [0, 0]
    loan = tp.housing_loan
    if loan is not None and loan.available:
        rate = p.housing_loan_special_rate if loan.special else p.housing_loan_rate
        cap = p.housing_loan_special_cap if loan.special else p.housing_loan_cap
        # 要確認: 限度額の基礎は所得税の課税総所得金額等; 入力がなければ住民税の課税総所得金額.
        tax_base = (
            taxable if loan.income_tax_taxable_income is None else loan.income_tax_taxable_income
        )
        limit = min(tax_base * rate // RATE_UNIT, cap)
        amount = min(loan.available, limit)
        wanted_city = amount * share_city // share_total
        parts = (wanted_city, amount - wanted_city)
        for idx, (levy, label) in enumerate(((city, "市町村民税"), (pref, "道府県民税"))):
            house[idx] = levy.take(parts[idx])
            trace.add(
                f"credit.housing_loan.{levy.name}",
                f"{label} 住宅借入金等特別税額控除",
                house[idx],
                f"min({yen(loan.available)}, min({yen(tax_base)} × {_pct(rate)}, {yen(cap)}))"
                f" = {yen(amount)}; × {share_city if idx == 0 else share_pref}/{share_total}"
                f" = {yen(parts[idx])}"
                + ("" if house[idx] == parts[idx] else "（所得割額が限度）"),
                "地方税法附則第5条の4の2",
                g,
            )
    out["housing"] = Split(house[0], house[1])

    # 4. 寄附金税額控除 (第314条の7・第37条の2): 基本控除 + 特例控除 (ふるさと納税).
    don = [0, 0]
    d = tp.donations
    if d.furusato or d.designated_city or d.designated_prefecture:
        ceiling = inc.gross * 30 // 100
        rate = furusato_special_rate(taxable, personal_diff)
        basic_rates = (8, 2) if p.designated_city else (6, 4)
        shares = (share_city, share_pref)
        for idx, (levy, label, designated, law) in enumerate(
            (
                (city, "市町村民税", d.designated_city, "地方税法第314条の7"),
                (pref, "道府県民税", d.designated_prefecture, "地方税法第37条の2"),
            )
        ):
            eligible = min(d.furusato + designated, ceiling)
            basic = max(0, eligible - 2_000) * basic_rates[idx] // 100
            special_raw = (
                max(0, d.furusato - 2_000) * rate * shares[idx] // (RATE_UNIT * share_total)
            )
            special_cap = after_adjustment[idx] * 20 // 100
            special = min(special_raw, special_cap)
            wanted = basic + special
            don[idx] = levy.take(wanted)
            trace.add(
                f"credit.donation.{levy.name}",
                f"{label} 寄附金税額控除",
                don[idx],
                f"基本控除 (min({yen(d.furusato + designated)}, {yen(inc.gross)} × 30%) − 2,000)"
                f" × {basic_rates[idx]}% = {yen(basic)}; 特例控除 ({yen(d.furusato)} − 2,000)"
                f" × {_pct(rate)} × {shares[idx]}/{share_total} = {yen(special_raw)}"
                f"（限度: 調整控除後の所得割額 {yen(after_adjustment[idx])} × 20%"
                f" = {yen(special_cap)}）"
                f" → {yen(special)}; 計 {yen(wanted)}"
                + ("" if don[idx] == wanted else "（所得割額が限度）"),
                law,
                g,
            )
    out["donation"] = Split(don[0], don[1])

    # 5. 外国税額控除 (第314条の8・第37条の3): 入力額.
    foreign = [0, 0]
    ft = tp.foreign_tax_credit
    for idx, (levy, label, wanted, law) in enumerate(
        (
            (city, "市町村民税", ft.city, "地方税法第314条の8"),
            (pref, "道府県民税", ft.prefecture, "地方税法第37条の3"),
        )
    ):
        if wanted:
            foreign[idx] = levy.take(wanted)
            trace.add(
                f"credit.foreign_tax.{levy.name}",
                f"{label} 外国税額控除",
                foreign[idx],
                f"控除額 {yen(wanted)}" + ("" if foreign[idx] == wanted else "（所得割額が限度）"),
                law,
                g,
            )
    out["foreign"] = Split(foreign[0], foreign[1])
    return out
