"""給与支払報告書・公的年金等支払報告書の CSV を読む (pure: stdlib only, no Django, no I/O).

Municipalities receive 給与支払報告書（個人別明細書） and 公的年金等支払報告書 as CSV in the
national record layout: one record per recipient, the 提出義務者 (payer) repeated on every
record, 法定資料の種類 ``315`` (給与) or ``331`` (公的年金等). The column order comes from the
declarative tables below (:data:`LAYOUTS`), one entry per column; the sources and how far each
was confirmed are in ``docs/tax-inputs-layout.md``. A layout is chosen per record by its column
count, so a corrected or newer layout is a table change, not a code change.

The readers never raise on a bad record: each :class:`Record` carries its line, the parsed
fields (or ``None`` when the record could not be read at all) and its :class:`Problem` list
(line, column, item, value, reason in Japanese). Only a file that cannot be decoded raises
:class:`ReportFileError`, naming the byte offset and line.

The 総括表 is not part of the CSV layout (it is a separate form); :class:`Summary` is what the
records themselves say about each payer: 受給者総人員, 特別徴収/普通徴収の人数, 指定番号.

Money is ``int`` yen; a blank amount is ``None`` (not 0).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import BinaryIO, Final, Literal

from moyai.platform.rules import (
    corporate_number_problem,
    local_government_check_digit,
)
from moyai.registry.rules import ERAS, my_number_problem, wareki

# --- 様式表 / Layout tables -----------------------------------------------------------------

TEXT: Final = "X"  # 文字（全角）: width = characters; over-long is a warning
KANA: Final = "K"  # 半角カナ (full-width accepted); stored as full-width katakana (NFKC)
ALNUM: Final = "A"  # 半角英数字・記号
AMOUNT: Final = "N"  # 数字 → int (money, counts); width = digits
DIGITS: Final = "9"  # 数字 kept as text (codes, numbers with leading zeros); width = digits
FLAG: Final = "F"  # 0 / 1 (blank = 0) → bool

#: 元号 codes of the 法定調書 / 給与支払報告書 record (source 3 in docs/tax-inputs-layout.md).
#: Note the order: 昭和 is 1, not 明治.
ERA_CODES: Final[Mapping[str, str]] = {
    "1": "昭和",
    "2": "大正",
    "3": "明治",
    "4": "平成",
    "5": "令和",
}

#: 普通徴収切替理由 written in 摘要 as 「普A」〜「普F」 (municipal guidance; see the doc).
ORDINARY_COLLECTION_REASONS: Final[Mapping[str, str]] = {
    "普A": "総従業員数が2人以下",
    "普B": "他の事業所で特別徴収（乙欄適用）",
    "普C": "給与が少なく税額が引けない",
    "普D": "給与の支払が不定期",
    "普E": "事業専従者",
    "普F": "退職者・退職予定者（5月末日まで）・休職者",
}

SALARY: Final = "315"
PENSION: Final = "331"


@dataclass(frozen=True)
class Column:
    """One column of a layout: 項目番号, 項目名, our field name ("" = read, not kept), type."""

    number: int
    item: str
    field: str
    type: str
    width: int
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layout:
    id: str
    record_kind: str
    title: str
    #: era of the two-digit 年分 (and of 年月日 items without a 元号); "" = 31 以上は平成, else 令和
    year_era: str
    columns: tuple[Column, ...]
    source: str

    def __post_init__(self) -> None:
        numbers = [c.number for c in self.columns]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"{self.id}: 項目番号が1から連続していません")
        names = [c.field for c in self.columns if c.field]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.id}: 項目のフィールド名が重複しています")

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(c.field for c in self.columns if c.field)


def _c(
    number: int,
    item: str,
    field: str,
    type_: str,
    width: int,
    required: bool = False,
    choices: tuple[str, ...] = (),
) -> Column:
    return Column(number, item, field, type_, width, required, choices)


def _ymd(start: int, item: str, field: str) -> tuple[Column, ...]:
    """年・月・日 in three columns (no 元号: the era is the one of 年分)."""
    return (
        _c(start, f"{item} 年", f"{field}_year" if field else "", DIGITS, 2),
        _c(start + 1, f"{item} 月", f"{field}_month" if field else "", DIGITS, 2),
        _c(start + 2, f"{item} 日", f"{field}_day" if field else "", DIGITS, 2),
    )


def _persons(start: int, label: str, field: str, count: int) -> tuple[Column, ...]:
    """控除対象扶養親族 1〜4 etc.: フリガナ, 氏名, 区分, 個人番号 per person."""
    cols: list[Column] = []
    for i in range(count):
        n, p = start + 4 * i, f"{label}{i + 1}"
        f = f"{field}{i + 1}"
        cols += [
            _c(n, f"{p} フリガナ", f"{f}_kana", KANA, 60),
            _c(n + 1, f"{p} 氏名", f"{f}_name", TEXT, 30),
            _c(n + 2, f"{p} 区分", f"{f}_residency", DIGITS, 2, False, ("00", "01")),
            _c(n + 3, f"{p} 個人番号", f"{f}_my_number", DIGITS, 12),
        ]
    return tuple(cols)


_ERA_CHOICES = tuple(ERA_CODES)
_01 = ("0", "1")

# 項目1〜11: 提出義務者 (common to 315 and 331).
_PAYER: tuple[Column, ...] = (
    _c(1, "法定資料の種類", "record_kind", DIGITS, 3, True),
    _c(2, "整理番号1", "reference1", ALNUM, 10),
    _c(3, "本支店等区分番号", "branch", ALNUM, 5),
    _c(4, "提出義務者の住所（居所）又は所在地", "payer_address", TEXT, 60, True),
    _c(5, "提出義務者の氏名又は名称", "payer_name", TEXT, 30, True),
    _c(6, "提出義務者の電話番号", "payer_phone", ALNUM, 15),
    _c(7, "整理番号2", "reference2", ALNUM, 13),
    _c(8, "提出者の住所（居所）又は所在地", "", TEXT, 60),
    _c(9, "提出者の氏名又は名称", "", TEXT, 30),
    _c(10, "訂正表示", "correction", DIGITS, 1, True, ("0", "1", "2", "3")),
    _c(11, "年分", "year", DIGITS, 2, True),
)

# 給与所得の源泉徴収票 / 給与支払報告書: 項目12〜91 are the same in both layouts.
_SALARY_BODY: tuple[Column, ...] = (
    _c(12, "支払を受ける者 住所又は居所", "address", TEXT, 60, True),
    _c(13, "支払を受ける者 国外住所表示", "abroad", FLAG, 1),
    _c(14, "支払を受ける者 氏名", "name", TEXT, 30, True),
    _c(15, "支払を受ける者 役職名", "title", TEXT, 15),
    _c(16, "種別", "kind", TEXT, 10),
    _c(17, "支払金額", "payment_amount", AMOUNT, 10),
    _c(18, "未払金額", "unpaid_amount", AMOUNT, 10),
    _c(19, "給与所得控除後の給与等の金額", "income_after_deduction", AMOUNT, 10),
    _c(20, "所得控除の額の合計額", "total_deductions", AMOUNT, 10),
    _c(21, "源泉徴収税額", "withholding_tax", AMOUNT, 10),
    _c(22, "未徴収税額", "unwithheld_tax", AMOUNT, 10),
    _c(23, "（源泉）控除対象配偶者の有無等", "spouse_status", DIGITS, 1, False, tuple("01234")),
    _c(24, "老人控除対象配偶者", "spouse_elderly", FLAG, 1),
    _c(25, "配偶者（特別）控除の額", "spouse_deduction", AMOUNT, 10),
    _c(26, "控除対象扶養親族の数 特定 主", "specific_dependents", AMOUNT, 2),
    _c(27, "控除対象扶養親族の数 特定 従", "specific_dependents_secondary", AMOUNT, 2),
    _c(28, "控除対象扶養親族の数 老人 主", "elderly_dependents", AMOUNT, 2),
    _c(29, "控除対象扶養親族の数 老人 上の内訳", "elderly_parents_cohabiting", AMOUNT, 2),
    _c(30, "控除対象扶養親族の数 老人 従", "elderly_dependents_secondary", AMOUNT, 2),
    _c(31, "控除対象扶養親族の数 その他 主", "other_dependents", AMOUNT, 2),
    _c(32, "控除対象扶養親族の数 その他 従", "other_dependents_secondary", AMOUNT, 2),
    _c(33, "障害者の数 特別障害者", "special_disabled_relatives", AMOUNT, 2),
    _c(34, "障害者の数 上の内訳", "special_disabled_cohabiting", AMOUNT, 2),
    _c(35, "障害者の数 その他", "other_disabled_relatives", AMOUNT, 2),
    _c(36, "社会保険料等の金額", "social_insurance", AMOUNT, 10),
    _c(37, "社会保険料等の金額 上の内訳", "small_enterprise_mutual_aid", AMOUNT, 10),
    _c(38, "生命保険料の控除額", "life_insurance_deduction", AMOUNT, 10),
    _c(39, "地震保険料の控除額", "earthquake_insurance_deduction", AMOUNT, 10),
    _c(40, "住宅借入金等特別控除の額", "housing_loan_deduction", AMOUNT, 10),
    _c(41, "旧個人年金保険料の金額", "old_private_pension_premium", AMOUNT, 10),
    _c(42, "配偶者の合計所得", "spouse_total_income", AMOUNT, 10),
    _c(43, "旧長期損害保険料の金額", "old_long_term_insurance_premium", AMOUNT, 10),
    _c(44, "受給者の生年月日 元号", "birth_era", DIGITS, 1, True, _ERA_CHOICES),
    _c(45, "受給者の生年月日 年", "birth_year", DIGITS, 2, True),
    _c(46, "受給者の生年月日 月", "birth_month", DIGITS, 2, True),
    _c(47, "受給者の生年月日 日", "birth_day", DIGITS, 2, True),
    _c(48, "夫あり", "", ALNUM, 1),
    _c(49, "未成年者", "minor", FLAG, 1),
    _c(50, "乙欄適用", "otsu", FLAG, 1),
    _c(51, "本人が特別障害者", "special_disabled", FLAG, 1),
    _c(52, "本人がその他の障害者", "disabled", FLAG, 1),
    _c(53, "老年者", "", DIGITS, 1),
    _c(54, "寡婦", "widow", DIGITS, 1, False, ("0", "1", "2")),
    _c(55, "寡夫", "widower", FLAG, 1),
    _c(56, "勤労学生", "working_student", FLAG, 1),
    _c(57, "死亡退職", "died_in_office", FLAG, 1),
    _c(58, "災害者", "disaster_victim", FLAG, 1),
    _c(59, "外国人", "foreigner", FLAG, 1),
    _c(60, "中途就・退職 区分", "employment_change", DIGITS, 1, False, ("0", "1", "2")),
    *_ymd(61, "中途就・退職", "employment_change"),
    _c(64, "前職分 住所又は所在地", "previous_payer_address", TEXT, 60),
    _c(65, "前職分 国外住所表示", "", FLAG, 1),
    _c(66, "前職分 氏名又は名称", "previous_payer_name", TEXT, 30),
    _c(67, "前職分 給与等の金額", "previous_payment_amount", AMOUNT, 10),
    _c(68, "前職分 徴収した額", "previous_withholding_tax", AMOUNT, 10),
    _c(69, "前職分 控除した社会保険料の金額", "previous_social_insurance", AMOUNT, 10),
    _c(70, "災害者に係る徴収猶予税額", "disaster_deferred_tax", AMOUNT, 10),
    *_ymd(71, "他の支払者のもとを退職した年月日", "previous_retired"),
    *_ymd(74, "住宅借入金等特別控除 居住開始年月日（1回目）", ""),
    _c(77, "住宅借入金等特別控除適用数", "housing_loan_count", AMOUNT, 1),
    _c(78, "住宅借入金等特別控除可能額", "housing_loan_possible", AMOUNT, 10),
    _c(79, "住宅借入金等特別控除区分（1回目）", "", DIGITS, 2),
    _c(80, "住宅借入金等年末残高（1回目）", "", AMOUNT, 10),
    *_ymd(81, "住宅借入金等特別控除 居住開始年月日（2回目）", ""),
    _c(84, "住宅借入金等特別控除区分（2回目）", "", DIGITS, 2),
    _c(85, "住宅借入金等年末残高（2回目）", "", AMOUNT, 10),
    _c(86, "摘要", "remarks", TEXT, 100),
    _c(87, "新生命保険料の金額", "new_life_premium", AMOUNT, 10),
    _c(88, "旧生命保険料の金額", "old_life_premium", AMOUNT, 10),
    _c(89, "介護医療保険料の金額", "care_medical_premium", AMOUNT, 10),
    _c(90, "新個人年金保険料の金額", "new_private_pension_premium", AMOUNT, 10),
    _c(91, "16歳未満扶養親族の数", "under16_dependents", AMOUNT, 2),
)

#: 令和2年分以降（個人番号・基礎控除・ひとり親・作成区分あり）, 144 項目.
SALARY_R2: Final = Layout(
    id="315-R2",
    record_kind=SALARY,
    title="給与支払報告書（個人別明細書）令和2年分以降",
    year_era="令和",
    columns=(
        *_PAYER,
        *_SALARY_BODY,
        _c(92, "国民年金保険料等の金額", "national_pension_premium", AMOUNT, 10),
        _c(93, "非居住者である親族の数", "nonresident_relatives", AMOUNT, 2),
        _c(94, "支払者の法人番号又は個人番号", "payer_number", DIGITS, 13),
        _c(95, "支払を受ける者 個人番号", "my_number", DIGITS, 12),
        _c(96, "控除対象配偶者 フリガナ", "spouse_kana", KANA, 60),
        _c(97, "控除対象配偶者 氏名", "spouse_name", TEXT, 30),
        _c(98, "控除対象配偶者 区分", "spouse_residency", DIGITS, 2, False, ("00", "01")),
        _c(99, "控除対象配偶者 個人番号", "spouse_my_number", DIGITS, 12),
        *_persons(100, "控除対象扶養親族", "dependent", 4),
        *_persons(116, "16歳未満の扶養親族", "under16_", 4),
        _c(132, "5人目以降の控除対象扶養親族", "more_dependents", TEXT, 100),
        _c(133, "5人目以降の16歳未満の扶養親族", "more_under16", TEXT, 100),
        _c(134, "普通徴収", "ordinary_collection", FLAG, 1),
        _c(135, "青色専従者", "blue_return_employee", FLAG, 1),
        _c(136, "条約免除", "treaty_exempt", FLAG, 1),
        _c(137, "支払を受ける者 フリガナ", "kana", KANA, 60, True),
        _c(138, "受給者番号", "recipient_number", ALNUM, 25),
        _c(139, "提出先市町村コード", "municipality_code", DIGITS, 6, True),
        _c(140, "指定番号", "designated_number", ALNUM, 12),
        _c(141, "基礎控除の額", "basic_deduction", AMOUNT, 10),
        _c(142, "所得金額調整控除額", "income_adjustment_deduction", AMOUNT, 10),
        _c(143, "ひとり親", "single_parent", FLAG, 1),
        _c(144, "作成区分", "creation_kind", DIGITS, 1, True, ("0", "1", "2")),
    ),
    source="公開実装（令和の年分の315出力、出典3）の項目92〜144。1〜91 は平成26年版と同じ",
)

#: 平成26年版（個人番号なし）, 98 項目.
SALARY_H26: Final = Layout(
    id="315-H26",
    record_kind=SALARY,
    title="給与支払報告書（個人別明細書）平成26年版",
    year_era="平成",
    columns=(
        *_PAYER,
        *_SALARY_BODY,
        _c(92, "普通徴収", "ordinary_collection", FLAG, 1),
        _c(93, "青色専従者", "blue_return_employee", FLAG, 1),
        _c(94, "条約免除", "treaty_exempt", FLAG, 1),
        _c(95, "カナ氏名", "kana", KANA, 60, True),
        _c(96, "受給者番号", "recipient_number", ALNUM, 25),
        _c(97, "提出先市町村コード", "municipality_code", DIGITS, 6, True),
        _c(98, "指定番号", "designated_number", ALNUM, 12),
    ),
    source="公開の検査ツール（出典1: eLTAX CSVレイアウト仕様書 給与支払報告書, 2014）",
)

_PENSION_AMOUNTS: tuple[Column, ...] = tuple(
    _c(19 + 4 * i + j, f"所得税法第203条の3第{i + 1}号適用分 {label}", f"{f}{i + 1}", AMOUNT, 10)
    for i in range(3)
    for j, (label, f) in enumerate(
        (
            ("支払金額", "payment"),
            ("未払金額", "unpaid"),
            ("源泉徴収税額", "tax"),
            ("未徴収税額", "untaxed"),
        )
    )
)

#: 公的年金等支払報告書 平成26年版, 49 項目.
PENSION_H26: Final = Layout(
    id="331-H26",
    record_kind=PENSION,
    title="公的年金等支払報告書 平成26年版",
    year_era="",
    columns=(
        *_PAYER,
        _c(12, "支払を受ける者 住所又は居所", "address", TEXT, 60, True),
        _c(13, "支払を受ける者 国外住所表示", "abroad", FLAG, 1),
        _c(14, "支払を受ける者 氏名", "name", TEXT, 30, True),
        _c(15, "受給者の生年月日 元号", "birth_era", DIGITS, 1, True, _ERA_CHOICES),
        _c(16, "受給者の生年月日 年", "birth_year", DIGITS, 2, True),
        _c(17, "受給者の生年月日 月", "birth_month", DIGITS, 2, True),
        _c(18, "受給者の生年月日 日", "birth_day", DIGITS, 2, True),
        *_PENSION_AMOUNTS,
        _c(31, "本人 特別障害者", "special_disabled", FLAG, 1),
        _c(32, "本人 その他の障害者", "disabled", FLAG, 1),
        _c(33, "本人 老年者", "", DIGITS, 1),
        _c(34, "控除対象配偶者の有無等", "spouse_status", DIGITS, 1, False, ("1", "2", "3")),
        _c(35, "控除対象扶養親族の数 老人", "elderly_dependents", AMOUNT, 2),
        _c(36, "控除対象扶養親族の数 その他", "other_dependents", AMOUNT, 2),
        _c(37, "障害者の数 特別障害者", "special_disabled_relatives", AMOUNT, 2),
        _c(38, "障害者の数 その他", "other_disabled_relatives", AMOUNT, 2),
        _c(39, "社会保険料の金額", "social_insurance", AMOUNT, 10),
        _c(40, "控除対象扶養親族の数 特定", "specific_dependents", AMOUNT, 2),
        _c(41, "摘要", "remarks", TEXT, 100),
        _c(42, "障害者の数 特別障害者のうち同居", "special_disabled_cohabiting", AMOUNT, 2),
        _c(43, "本人 特別寡婦", "special_widow", FLAG, 1),
        _c(44, "本人 寡婦・寡夫", "widow", FLAG, 1),
        _c(45, "16歳未満の扶養親族の数", "under16_dependents", AMOUNT, 2),
        _c(46, "カナ氏名", "kana", KANA, 60, True),
        _c(47, "受給者番号", "recipient_number", ALNUM, 25),
        _c(48, "提出先市町村コード", "municipality_code", DIGITS, 6, True),
        _c(49, "指定番号", "designated_number", ALNUM, 12),
    ),
    source="公開の検査ツール（出典2: eLTAX CSVレイアウト仕様書 公的年金等支払報告書, 2014）",
)

#: Layouts by 法定資料の種類, newest first; a record's column count picks one.
LAYOUTS: Final[Mapping[str, tuple[Layout, ...]]] = {
    SALARY: (SALARY_R2, SALARY_H26),
    PENSION: (PENSION_H26,),
}

# --- 結果の型 / Result types -----------------------------------------------------------------

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """A problem in a record: line, column (項目番号; None for the whole line), item, value."""

    line: int
    column: int | None
    item: str
    value: str
    reason: str
    severity: Severity = "error"

    @property
    def severity_label(self) -> str:
        return "エラー" if self.severity == "error" else "警告"

    def __str__(self) -> str:
        where = f"{self.line}行目" + (f" 第{self.column}項目" if self.column else "")
        item = f"「{self.item}」" if self.item else ""
        value = f"（値: {self.value}）" if self.value else ""
        return f"{self.severity_label}: {where}{item} {self.reason}{value}"


@dataclass(frozen=True)
class Payer:
    """提出義務者 (the employer or pension payer) as written on the record."""

    name: str
    address: str
    phone: str = ""
    #: 法人番号 (13 digits) or 個人番号 (12 digits); "" when the layout has no such column
    number: str = ""
    reference1: str = ""
    branch: str = ""

    @property
    def number_kind(self) -> str:
        return {13: "法人番号", 12: "個人番号"}.get(len(self.number), "")


@dataclass(frozen=True)
class Spouse:
    """控除対象配偶者 (区分: 00 居住者 / 01 非居住者)."""

    name: str = ""
    kana: str = ""
    my_number: str = ""
    residency: str = ""
    elderly: bool = False
    total_income: int | None = None


@dataclass(frozen=True)
class Dependent:
    """控除対象扶養親族 / 16歳未満の扶養親族 (区分: 00 居住者 / 01 非居住者).

    The layout has no per-person 特定/老人/同居老親等: only the counts on the report do.
    """

    name: str = ""
    kana: str = ""
    my_number: str = ""
    residency: str = ""


@dataclass(frozen=True)
class SalaryReport:
    """給与支払報告書（個人別明細書）1件."""

    payer: Payer
    year: int | None  # 年分 (西暦)
    correction: str  # 訂正表示
    municipality_code: str  # 提出先市町村コード (6桁; a 5-digit code gets its check digit)
    designated_number: str  # 指定番号
    recipient_number: str  # 受給者番号
    # 支払を受ける者
    name: str
    kana: str
    my_number: str
    birth_date: date | None
    #: 住所又は居所 (給与支払報告書では翌年1月1日現在の住所, see the doc)
    address: str
    abroad: bool
    title: str
    # 金額
    kind: str
    payment_amount: int | None
    unpaid_amount: int | None
    income_after_deduction: int | None  # 給与所得控除後の金額
    total_deductions: int | None  # 所得控除の額の合計額
    withholding_tax: int | None  # 源泉徴収税額
    unwithheld_tax: int | None
    social_insurance: int | None  # 社会保険料等の金額
    small_enterprise_mutual_aid: int | None  # うち小規模企業共済等掛金
    life_insurance_deduction: int | None  # 生命保険料の控除額
    new_life_premium: int | None  # 新生命保険料（一般）
    old_life_premium: int | None  # 旧生命保険料（一般）
    care_medical_premium: int | None  # 介護医療保険料
    new_private_pension_premium: int | None  # 新個人年金保険料
    old_private_pension_premium: int | None  # 旧個人年金保険料
    earthquake_insurance_deduction: int | None  # 地震保険料の控除額
    old_long_term_insurance_premium: int | None
    housing_loan_deduction: int | None  # 住宅借入金等特別控除の額
    housing_loan_possible: int | None
    housing_loan_count: int | None
    national_pension_premium: int | None
    basic_deduction: int | None
    income_adjustment_deduction: int | None
    # 配偶者・扶養親族
    spouse_status: str  # （源泉）控除対象配偶者の有無等
    spouse_deduction: int | None  # 配偶者（特別）控除の額
    spouse: Spouse | None
    specific_dependents: int | None
    elderly_dependents: int | None
    elderly_parents_cohabiting: int | None  # 老人のうち同居老親等
    other_dependents: int | None
    under16_dependents: int | None
    special_disabled_relatives: int | None
    special_disabled_cohabiting: int | None
    other_disabled_relatives: int | None
    nonresident_relatives: int | None
    dependents: tuple[Dependent, ...]
    dependents_under16: tuple[Dependent, ...]
    more_dependents: str  # 5人目以降（摘要相当の文字列）
    more_under16: str
    # 本人の区分
    minor: bool
    otsu: bool  # 乙欄適用
    special_disabled: bool
    disabled: bool
    widow: bool
    widower: bool
    single_parent: bool
    working_student: bool
    died_in_office: bool
    disaster_victim: bool
    foreigner: bool
    blue_return_employee: bool
    treaty_exempt: bool
    # 徴収
    ordinary_collection: bool  # 普通徴収
    ordinary_collection_reason: str  # 普A〜普F (from 摘要), "" when none
    # 中途就・退職
    employment_change: str  # "就職" / "退職" / ""
    employment_change_date: date | None
    previous_payer_name: str
    previous_payer_address: str
    previous_payment_amount: int | None
    previous_withholding_tax: int | None
    previous_social_insurance: int | None
    previous_retired_on: date | None
    remarks: str  # 摘要
    creation_kind: str  # 作成区分: 0 国税のみ, 1 地方税のみ, 2 両方

    @property
    def ordinary_collection_reason_label(self) -> str:
        return ORDINARY_COLLECTION_REASONS.get(self.ordinary_collection_reason, "")


@dataclass(frozen=True)
class PensionAmounts:
    """所得税法第203条の3 第N号適用分."""

    category: int
    payment: int | None
    unpaid: int | None
    tax: int | None
    untaxed: int | None


@dataclass(frozen=True)
class PensionReport:
    """公的年金等支払報告書 1件."""

    payer: Payer
    year: int | None
    correction: str
    municipality_code: str
    designated_number: str
    recipient_number: str
    name: str
    kana: str
    my_number: str  # not in the 平成26年版 layout: ""
    birth_date: date | None
    address: str
    abroad: bool
    amounts: tuple[PensionAmounts, ...]
    payment_amount: int | None  # 支払金額 (sum over the categories)
    withholding_tax: int | None  # 源泉徴収税額 (sum)
    social_insurance: int | None
    spouse_status: str
    specific_dependents: int | None
    elderly_dependents: int | None
    other_dependents: int | None
    under16_dependents: int | None
    special_disabled_relatives: int | None
    special_disabled_cohabiting: int | None
    other_disabled_relatives: int | None
    special_disabled: bool
    disabled: bool
    widow: bool
    special_widow: bool
    remarks: str


Report = SalaryReport | PensionReport


@dataclass(frozen=True)
class Record:
    """One CSV record: where it is, what it says, what is wrong with it."""

    line: int
    layout: str  # Layout.id, "" when no layout fits
    cells: tuple[str, ...]
    report: Report | None  # None when the record could not be read (column count, kind)
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.report is not None and not any(p.severity == "error" for p in self.problems)


@dataclass(frozen=True)
class Summary:
    """総括表に相当する集計: per 提出義務者 and 提出先市町村 (as the records say)."""

    payer: Payer
    municipality_code: str
    designated_number: str
    recipients: int  # 受給者総人員
    special_collection: int | None  # 特別徴収対象者数 (給与のみ)
    ordinary_collection: int | None  # 普通徴収対象者数 (給与のみ)
    lines: tuple[int, ...]


@dataclass(frozen=True)
class ReportFile:
    record_kind: str  # "315" / "331"
    encoding: str  # "utf-8", "utf-8-sig" or "cp932"
    records: tuple[Record, ...]
    summaries: tuple[Summary, ...]
    problems: tuple[Problem, ...]  # problems of the file as a whole

    @property
    def reports(self) -> tuple[Report, ...]:
        return tuple(r.report for r in self.records if r.report is not None)

    def all_problems(self) -> tuple[Problem, ...]:
        every = [*self.problems, *(p for r in self.records for p in r.problems)]
        return tuple(sorted(every, key=lambda p: (p.line, p.column or 0)))


class ReportFileError(ValueError):
    """The file cannot be read at all (its bytes are not in the encoding)."""

    def __init__(self, message: str, *, offset: int | None = None, line: int | None = None):
        super().__init__(message)
        self.offset = offset
        self.line = line


# --- 検査数字 / Check digits -----------------------------------------------------------------


# --- 和暦 -------------------------------------------------------------------------------------

_ERA_RANGE: Final[Mapping[str, tuple[date, date]]] = {
    name: (start, ERAS[i - 1][1] - timedelta(days=1) if i else date.max)
    for i, (name, start) in enumerate(ERAS)
}


def wareki_to_date(era: str, year: int, month: int, day: int) -> tuple[date | None, str | None]:
    """(date, None), or (None, reason) when the 和暦 date does not exist."""
    if era not in _ERA_RANGE:
        return None, f"元号「{era}」は使えません"
    start, end = _ERA_RANGE[era]
    if year < 1:
        return None, "年は1以上です"
    written = f"{era}{'元' if year == 1 else year}年{month}月{day}日"
    try:
        value = date(start.year + year - 1, month, day)
    except ValueError:
        return None, f"{written}は暦にない日付です"
    if not start <= value <= end:
        hint = f"（{wareki(value)}）" if value >= ERAS[-1][1] else ""
        return None, f"{written}は{era}の期間にありません{hint}"
    return value, None


def wareki_year(era: str, year: int) -> tuple[int | None, str | None]:
    """(西暦年, None), or (None, reason) when the era has no such year (昭和65年)."""
    if era not in _ERA_RANGE:
        return None, f"元号「{era}」は使えません"
    start, end = _ERA_RANGE[era]
    western = start.year + year - 1
    if year < 1 or western > end.year:
        return None, f"{era}{year}年という年はありません"
    return western, None


def year_era(two_digits: int, layout_era: str) -> str:
    """The era of a two-digit 年 without 元号 (年分, 中途就・退職)."""
    if layout_era == "令和" and two_digits >= 31:
        return "平成"  # 平成31年（2019年1〜4月）
    if layout_era:
        return layout_era
    return "平成" if two_digits >= 31 else "令和"


# --- 文字コード / Encoding -------------------------------------------------------------------

_ALIASES: Final[Mapping[str, str]] = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf_8_sig": "utf-8-sig",
    "cp932": "cp932",
    "ms932": "cp932",
    "windows-31j": "cp932",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
}


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """(text, encoding used). ``auto``: UTF-8 (BOM or not), else CP932. Shift_JIS → CP932."""
    if encoding.lower() != "auto":
        name = _ALIASES.get(encoding.lower().replace(" ", ""))
        if name is None:
            raise ReportFileError(f"文字コード「{encoding}」には対応していません（UTF-8, CP932）")
        try:
            return data.decode(name), name
        except UnicodeDecodeError as e:
            line = _line_of(data, e.start)
            raise ReportFileError(
                f"{name} として読めません: {e.start + 1}バイト目（{line}行目）に不正なバイト"
                f" {data[e.start : e.start + 2].hex(' ')} があります",
                offset=e.start,
                line=line,
            ) from e
    if data.startswith(b"\xef\xbb\xbf"):
        return decode(data, "utf-8-sig")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e_utf8:
        try:
            return data.decode("cp932"), "cp932"
        except UnicodeDecodeError as e_sjis:
            u, s = e_utf8.start, e_sjis.start
            raise ReportFileError(
                "文字コードを判別できません（UTF-8 でも CP932 でもありません）:"
                f" UTF-8 では {u + 1}バイト目（{_line_of(data, u)}行目）、"
                f"CP932 では {s + 1}バイト目（{_line_of(data, s)}行目）に不正なバイトがあります",
                offset=max(u, s),
                line=_line_of(data, max(u, s)),
            ) from e_sjis


# --- 読み取り / Reading ----------------------------------------------------------------------

_NEWLINE = re.compile(r"\r\n|\r|\n")
_ELTAX_PREFIX = re.compile(r"^[^,@]*@(?=\d{3}(?:,|$))")
_KATAKANA = re.compile(r"^[\u30a0-\u30ff\u3000 ・ー－‐゛゜()（）]*$")
_ORDINARY_REASON = re.compile(r"普[A-F]")

Value = str | int | bool | None


def _cells(line: str) -> list[str]:
    if '"' in line:
        return next(csv.reader([line]))
    return line.split(",")


def _convert(col: Column, raw: str, line: int) -> tuple[Value, list[Problem]]:
    """Check and convert one cell by its column's type."""
    problems: list[Problem] = []

    def problem(reason: str, severity: Severity = "error") -> None:
        problems.append(Problem(line, col.number, col.item, raw, reason, severity))

    text = raw.strip()
    if not text:
        if col.required:
            problem("必須の項目が空です")
        if col.type == FLAG:
            return False, problems
        return (None if col.type == AMOUNT else ""), problems
    if col.type in (AMOUNT, DIGITS, ALNUM, FLAG):
        text = unicodedata.normalize("NFKC", text)
    if col.type == TEXT:
        if len(text) > col.width:
            problem(f"{col.width}文字を超えています（{len(text)}文字）", "warning")
        return text, problems
    if col.type == KANA:
        kana = unicodedata.normalize("NFKC", text)
        if not _KATAKANA.match(kana):
            problem("フリガナに片仮名以外の文字があります", "warning")
        if len(kana) > col.width:
            problem(f"{col.width}文字を超えています（{len(kana)}文字）", "warning")
        return kana, problems
    if col.type == ALNUM:
        if not text.isascii():
            problem("半角英数字で記録してください")
        elif len(text) > col.width:
            problem(f"{col.width}桁を超えています（{len(text)}桁）")
        return text, problems
    if col.type == FLAG:
        if text not in _01:
            problem("0 又は 1 で記録してください")
            return False, problems
        return text == "1", problems
    # AMOUNT / DIGITS
    if not (text.isascii() and text.isdigit()):
        problem("数字以外の文字があります")
        return (None if col.type == AMOUNT else text), problems
    if len(text) > col.width:
        problem(f"{col.width}桁を超えています（{len(text)}桁）")
    if col.choices and text not in col.choices:
        problem(f"使えない値です（{'・'.join(col.choices)} のいずれか）")
    return (int(text) if col.type == AMOUNT else text), problems


class _Fields:
    """Converted values of one record by field name, with typed accessors."""

    def __init__(self, values: Mapping[str, Value]) -> None:
        self.values = values

    def s(self, field: str) -> str:
        v = self.values.get(field)
        return v if isinstance(v, str) else ""

    def i(self, field: str) -> int | None:
        v = self.values.get(field)
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    def b(self, field: str) -> bool:
        return self.values.get(field) is True

    def has(self, field: str) -> bool:
        return field in self.values


@dataclass
class _Context:
    layout: Layout
    line: int
    columns: Mapping[str, Column]
    problems: list[Problem]

    def add(self, field: str, value: str, reason: str, severity: Severity = "error") -> None:
        col = self.columns.get(field)
        self.problems.append(
            Problem(
                self.line,
                col.number if col else None,
                col.item if col else field,
                value,
                reason,
                severity,
            )
        )


def _choose_layout(kind: str, count: int) -> tuple[Layout | None, bool]:
    """(layout, one_extra_blank) for a record of ``count`` cells."""
    for layout in LAYOUTS[kind]:
        if len(layout.columns) == count:
            return layout, False
    for layout in LAYOUTS[kind]:
        if len(layout.columns) == count - 1:
            return layout, True
    return None, False


def _year(f: _Fields, ctx: _Context) -> int | None:
    text = f.s("year")
    if not text.isdigit():
        return None
    yy = int(text)
    era = year_era(yy, ctx.layout.year_era)
    western, reason = wareki_year(era, yy)
    if reason:
        ctx.add("year", text, f"年分: {reason}")
    return western


def _birth_date(f: _Fields, ctx: _Context) -> date | None:
    parts = [f.s(k) for k in ("birth_era", "birth_year", "birth_month", "birth_day")]
    if not all(p.isdigit() for p in parts) or parts[0] not in ERA_CODES:
        return None  # missing or non-numeric parts are reported per column
    era = ERA_CODES[parts[0]]
    value, reason = wareki_to_date(era, int(parts[1]), int(parts[2]), int(parts[3]))
    if reason:
        ctx.add("birth_year", "/".join(parts), f"受給者の生年月日: {reason}")
    return value


def _date_without_era(
    f: _Fields, ctx: _Context, field: str, label: str, year: int | None
) -> date | None:
    parts = [f.s(f"{field}_{k}") for k in ("year", "month", "day")]
    if not any(parts):
        return None
    if not all(p.isdigit() for p in parts):
        ctx.add(f"{field}_year", "/".join(parts), f"{label}: 年・月・日をそろえて記録してください")
        return None
    yy = int(parts[0])
    era = year_era(yy, ctx.layout.year_era)
    value, reason = wareki_to_date(era, yy, int(parts[1]), int(parts[2]))
    if reason:
        ctx.add(f"{field}_year", "/".join(parts), f"{label}: {reason}")
    elif value is not None and year is not None and value.year != year:
        ctx.add(
            f"{field}_year",
            "/".join(parts),
            f"{label}が年分（{year}年）の日付ではありません",
            "warning",
        )
    return value


def _check_numbers(f: _Fields, ctx: _Context, person_fields: Sequence[str]) -> None:
    if f.has("my_number"):
        number = f.s("my_number")
        if not number:
            ctx.add("my_number", "", "受給者の個人番号の記載がありません", "warning")
        elif reason := my_number_problem(number):
            ctx.add("my_number", number, reason)
    for field in person_fields:
        number = f.s(field)
        if number and (reason := my_number_problem(number)):
            ctx.add(field, number, reason)
    payer_number = f.s("payer_number")
    if payer_number:
        if len(payer_number) == 13:
            reason = corporate_number_problem(payer_number)
        elif len(payer_number) == 12:
            reason = my_number_problem(payer_number)
        else:
            reason = "法人番号（13桁）又は個人番号（12桁）ではありません"
        if reason:
            ctx.add("payer_number", payer_number, reason)


def _municipality(f: _Fields, ctx: _Context) -> str:
    code = f.s("municipality_code")
    if not (code.isascii() and code.isdigit()):
        return code
    if len(code) == 5:
        return code + str(local_government_check_digit(code))
    if len(code) != 6:
        ctx.add("municipality_code", code, "提出先市町村コードは数字5桁又は6桁です")
    elif local_government_check_digit(code[:5]) != int(code[5]):
        ctx.add("municipality_code", code, "提出先市町村コードの検査数字が正しくありません")
    return code


def _payer(f: _Fields) -> Payer:
    return Payer(
        name=f.s("payer_name"),
        address=f.s("payer_address"),
        phone=f.s("payer_phone"),
        number=f.s("payer_number"),
        reference1=f.s("reference1"),
        branch=f.s("branch"),
    )


def _persons_of(f: _Fields, prefix: str) -> tuple[Dependent, ...]:
    people: list[Dependent] = []
    for n in range(1, 5):
        p = f"{prefix}{n}"
        person = Dependent(
            name=f.s(f"{p}_name"),
            kana=f.s(f"{p}_kana"),
            my_number=f.s(f"{p}_my_number"),
            residency=f.s(f"{p}_residency"),
        )
        if person != Dependent():
            people.append(person)
    return tuple(people)


def _salary(f: _Fields, ctx: _Context) -> SalaryReport:
    person_numbers = ["spouse_my_number"] + [
        f"{p}{n}_my_number" for p in ("dependent", "under16_") for n in range(1, 5)
    ]
    _check_numbers(f, ctx, person_numbers)
    year = _year(f, ctx)
    spouse = Spouse(
        name=f.s("spouse_name"),
        kana=f.s("spouse_kana"),
        my_number=f.s("spouse_my_number"),
        residency=f.s("spouse_residency"),
        elderly=f.b("spouse_elderly"),
        total_income=f.i("spouse_total_income"),
    )
    remarks = f.s("remarks")
    reasons = _ORDINARY_REASON.findall(unicodedata.normalize("NFKC", remarks))
    reason = reasons[0] if reasons else ""
    ordinary = f.b("ordinary_collection")
    if ordinary and not reason:
        ctx.add(
            "ordinary_collection",
            "1",
            "普通徴収の切替理由（普A〜普F）が摘要にありません",
            "warning",
        )
    if reason and not ordinary:
        ctx.add(
            "remarks",
            remarks,
            f"摘要に「{reason}」がありますが普通徴収が1ではありません",
            "warning",
        )
    if f.s("creation_kind") == "0":
        ctx.add("creation_kind", "0", "作成区分が「国税のみ」のレコードです", "warning")
    change = {"1": "就職", "2": "退職"}.get(f.s("employment_change"), "")
    return SalaryReport(
        payer=_payer(f),
        year=year,
        correction=f.s("correction"),
        municipality_code=_municipality(f, ctx),
        designated_number=f.s("designated_number"),
        recipient_number=f.s("recipient_number"),
        name=f.s("name"),
        kana=f.s("kana"),
        my_number=f.s("my_number"),
        birth_date=_birth_date(f, ctx),
        address=f.s("address"),
        abroad=f.b("abroad"),
        title=f.s("title"),
        kind=f.s("kind"),
        payment_amount=f.i("payment_amount"),
        unpaid_amount=f.i("unpaid_amount"),
        income_after_deduction=f.i("income_after_deduction"),
        total_deductions=f.i("total_deductions"),
        withholding_tax=f.i("withholding_tax"),
        unwithheld_tax=f.i("unwithheld_tax"),
        social_insurance=f.i("social_insurance"),
        small_enterprise_mutual_aid=f.i("small_enterprise_mutual_aid"),
        life_insurance_deduction=f.i("life_insurance_deduction"),
        new_life_premium=f.i("new_life_premium"),
        old_life_premium=f.i("old_life_premium"),
        care_medical_premium=f.i("care_medical_premium"),
        new_private_pension_premium=f.i("new_private_pension_premium"),
        old_private_pension_premium=f.i("old_private_pension_premium"),
        earthquake_insurance_deduction=f.i("earthquake_insurance_deduction"),
        old_long_term_insurance_premium=f.i("old_long_term_insurance_premium"),
        housing_loan_deduction=f.i("housing_loan_deduction"),
        housing_loan_possible=f.i("housing_loan_possible"),
        housing_loan_count=f.i("housing_loan_count"),
        national_pension_premium=f.i("national_pension_premium"),
        basic_deduction=f.i("basic_deduction"),
        income_adjustment_deduction=f.i("income_adjustment_deduction"),
        spouse_status=f.s("spouse_status"),
        spouse_deduction=f.i("spouse_deduction"),
        spouse=None if spouse == Spouse() else spouse,
        specific_dependents=f.i("specific_dependents"),
        elderly_dependents=f.i("elderly_dependents"),
        elderly_parents_cohabiting=f.i("elderly_parents_cohabiting"),
        other_dependents=f.i("other_dependents"),
        under16_dependents=f.i("under16_dependents"),
        special_disabled_relatives=f.i("special_disabled_relatives"),
        special_disabled_cohabiting=f.i("special_disabled_cohabiting"),
        other_disabled_relatives=f.i("other_disabled_relatives"),
        nonresident_relatives=f.i("nonresident_relatives"),
        dependents=_persons_of(f, "dependent"),
        dependents_under16=_persons_of(f, "under16_"),
        more_dependents=f.s("more_dependents"),
        more_under16=f.s("more_under16"),
        minor=f.b("minor"),
        otsu=f.b("otsu"),
        special_disabled=f.b("special_disabled"),
        disabled=f.b("disabled"),
        widow=f.s("widow") in ("1", "2"),
        widower=f.b("widower"),
        single_parent=f.b("single_parent"),
        working_student=f.b("working_student"),
        died_in_office=f.b("died_in_office"),
        disaster_victim=f.b("disaster_victim"),
        foreigner=f.b("foreigner"),
        blue_return_employee=f.b("blue_return_employee"),
        treaty_exempt=f.b("treaty_exempt"),
        ordinary_collection=ordinary,
        ordinary_collection_reason=reason,
        employment_change=change,
        employment_change_date=_date_without_era(
            f, ctx, "employment_change", "中途就・退職の年月日", year
        ),
        previous_payer_name=f.s("previous_payer_name"),
        previous_payer_address=f.s("previous_payer_address"),
        previous_payment_amount=f.i("previous_payment_amount"),
        previous_withholding_tax=f.i("previous_withholding_tax"),
        previous_social_insurance=f.i("previous_social_insurance"),
        previous_retired_on=_date_without_era(
            f, ctx, "previous_retired", "他の支払者のもとを退職した年月日", year
        ),
        remarks=remarks,
        creation_kind=f.s("creation_kind"),
    )


def _sum(values: Sequence[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _pension(f: _Fields, ctx: _Context) -> PensionReport:
    _check_numbers(f, ctx, ())
    amounts = tuple(
        PensionAmounts(n, f.i(f"payment{n}"), f.i(f"unpaid{n}"), f.i(f"tax{n}"), f.i(f"untaxed{n}"))
        for n in (1, 2, 3)
    )
    return PensionReport(
        payer=_payer(f),
        year=_year(f, ctx),
        correction=f.s("correction"),
        municipality_code=_municipality(f, ctx),
        designated_number=f.s("designated_number"),
        recipient_number=f.s("recipient_number"),
        name=f.s("name"),
        kana=f.s("kana"),
        my_number=f.s("my_number"),
        birth_date=_birth_date(f, ctx),
        address=f.s("address"),
        abroad=f.b("abroad"),
        amounts=amounts,
        payment_amount=_sum([a.payment for a in amounts]),
        withholding_tax=_sum([a.tax for a in amounts]),
        social_insurance=f.i("social_insurance"),
        spouse_status=f.s("spouse_status"),
        specific_dependents=f.i("specific_dependents"),
        elderly_dependents=f.i("elderly_dependents"),
        other_dependents=f.i("other_dependents"),
        under16_dependents=f.i("under16_dependents"),
        special_disabled_relatives=f.i("special_disabled_relatives"),
        special_disabled_cohabiting=f.i("special_disabled_cohabiting"),
        other_disabled_relatives=f.i("other_disabled_relatives"),
        special_disabled=f.b("special_disabled"),
        disabled=f.b("disabled"),
        widow=f.b("widow"),
        special_widow=f.b("special_widow"),
        remarks=f.s("remarks"),
    )


_BUILDERS: Final[Mapping[str, Callable[[_Fields, _Context], Report]]] = {
    SALARY: _salary,
    PENSION: _pension,
}


def _lines(text: str) -> Iterator[tuple[int, str]]:
    yield from enumerate(_NEWLINE.split(text), start=1)


def read_record(kind: str, cells: Sequence[str], line: int) -> Record:
    """Parse one record of 法定資料の種類 ``kind`` (never raises on bad content)."""
    cells = list(cells)
    if cells and _ELTAX_PREFIX.match(cells[0]):
        cells[0] = _ELTAX_PREFIX.sub("", cells[0])
    first = cells[0].strip() if cells else ""
    if first != kind:
        reason = f"法定資料の種類が「{kind}」ではありません（見出し行や別の様式のレコード）"
        return Record(
            line, "", tuple(cells), None, (Problem(line, 1, "法定資料の種類", first, reason),)
        )
    layout, extra = _choose_layout(kind, len(cells))
    if layout is None or (extra and cells[-1].strip()):
        counts = "・".join(str(len(lay.columns)) for lay in LAYOUTS[kind])
        reason = f"項目数が{len(cells)}です（この様式は{counts}項目）"
        return Record(line, "", tuple(cells), None, (Problem(line, None, "項目数", "", reason),))
    problems: list[Problem] = []
    if extra:
        problems.append(
            Problem(line, None, "項目数", "", "行末に余分な区切り（,）があります", "warning")
        )
        cells = cells[:-1]
    values: dict[str, Value] = {}
    for col, raw in zip(layout.columns, cells, strict=True):
        value, col_problems = _convert(col, raw, line)
        problems += col_problems
        if col.field:
            values[col.field] = value
    ctx = _Context(layout, line, {c.field: c for c in layout.columns if c.field}, problems)
    report = _BUILDERS[kind](_Fields(values), ctx)
    return Record(line, layout.id, tuple(cells), report, tuple(problems))


def _summaries(records: Sequence[Record]) -> tuple[Summary, ...]:
    groups: dict[tuple[Payer, str, str], list[Record]] = {}
    for record in records:
        r = record.report
        if r is None:
            continue
        groups.setdefault((r.payer, r.municipality_code, r.designated_number), []).append(record)
    out: list[Summary] = []
    for (payer, code, designated), members in groups.items():
        salary = [m.report for m in members if isinstance(m.report, SalaryReport)]
        ordinary = sum(1 for s in salary if s.ordinary_collection)
        is_salary = bool(salary)
        out.append(
            Summary(
                payer=payer,
                municipality_code=code,
                designated_number=designated,
                recipients=len(members),
                special_collection=len(salary) - ordinary if is_salary else None,
                ordinary_collection=ordinary if is_salary else None,
                lines=tuple(m.line for m in members),
            )
        )
    return tuple(out)


def _read(kind: str, stream: BinaryIO, encoding: str) -> ReportFile:
    data = stream.read()
    text, used = decode(data, encoding)
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        offset = data.find(b"\x00")
        line = _line_of(data, offset)
        raise ReportFileError(
            f"CSV ではありません: {offset + 1}バイト目（{line}行目）に NUL があります",
            offset=offset,
            line=line,
        )
    records: list[Record] = []
    for number, line_text in _lines(text):
        if not line_text.strip().strip(","):
            continue
        try:
            cells = _cells(line_text)
        except csv.Error as e:
            problem = Problem(number, None, "", line_text[:40], f"CSV として読めません: {e}")
            records.append(Record(number, "", (line_text,), None, (problem,)))
            continue
        records.append(read_record(kind, cells, number))
    file_problems: list[Problem] = []
    if not records:
        file_problems.append(Problem(0, None, "", "", "レコードがありません"))
    return ReportFile(kind, used, tuple(records), _summaries(records), tuple(file_problems))


def read_salary_reports(stream: BinaryIO, encoding: str = "auto") -> ReportFile:
    """給与支払報告書（個人別明細書） CSV (法定資料の種類 315)."""
    return _read(SALARY, stream, encoding)


def read_pension_reports(stream: BinaryIO, encoding: str = "auto") -> ReportFile:
    """公的年金等支払報告書 CSV (法定資料の種類 331)."""
    return _read(PENSION, stream, encoding)
