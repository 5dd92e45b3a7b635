"""給与支払報告書・公的年金等支払報告書 CSV の読み取り (moyai.tax.resident.reports)."""

from __future__ import annotations

import io
import runpy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moyai.platform.rules import (
    corporate_number_check_digit,
    corporate_number_problem,
    local_government_check_digit,
)
from moyai.tax.resident.reports import (
    ERA_CODES,
    LAYOUTS,
    PENSION_H26,
    SALARY_H26,
    SALARY_R2,
    PensionReport,
    Problem,
    ReportFile,
    ReportFileError,
    SalaryReport,
    decode,
    read_pension_reports,
    read_salary_reports,
    wareki_to_date,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "tax"
SALARY = DATA / "salary_r6_cp932.csv"
PENSION = DATA / "pension_r6_utf8.csv"
samples: dict[str, Any] = runpy.run_path(str(DATA / "make_samples.py"))


def salary(data: bytes, encoding: str = "auto") -> ReportFile:
    return read_salary_reports(io.BytesIO(data), encoding)


def report(rf: ReportFile, line: int) -> SalaryReport:
    (record,) = [r for r in rf.records if r.line == line]
    assert isinstance(record.report, SalaryReport)
    return record.report


def problems_of(rf: ReportFile, line: int) -> set[tuple[int | None, str, str]]:
    return {(p.column, p.item, p.severity) for p in rf.all_problems() if p.line == line}


@pytest.fixture(scope="module")
def salary_file() -> ReportFile:
    with SALARY.open("rb") as f:
        return read_salary_reports(f)


# --- 見本ファイル ---------------------------------------------------------------------------


def test_samples_are_what_the_generator_writes() -> None:
    assert SALARY.read_bytes() == samples["salary_bytes"]()
    assert PENSION.read_bytes() == samples["pension_bytes"]()


def test_salary_sample_reads_as_cp932_with_seven_records(salary_file: ReportFile) -> None:
    assert salary_file.record_kind == "315"
    assert salary_file.encoding == "cp932"
    assert [r.line for r in salary_file.records] == [1, 2, 3, 4, 5, 6, 7]
    assert [r.layout for r in salary_file.records] == ["315-R2"] * 6 + [""]
    assert [r.ok for r in salary_file.records] == [True] * 5 + [False, False]
    assert salary_file.problems == ()


def test_employee_with_spouse_and_dependants(salary_file: ReportFile) -> None:
    r = report(salary_file, 1)
    assert r.payer.name == "見本工業株式会社"
    assert r.payer.address == "神奈川県三浦郡葉山町架空一丁目２番３号"
    assert r.payer.number_kind == "法人番号"
    assert corporate_number_problem(r.payer.number) is None
    assert (r.year, r.correction, r.municipality_code, r.designated_number) == (
        2024,
        "0",
        "143014",
        "0000123456",
    )
    assert (r.name, r.kana, r.recipient_number) == ("見本　太郎", "ミホン タロウ", "E0001")
    assert r.birth_date == date(1985, 4, 1)  # 元号 1 = 昭和
    assert r.address == "神奈川県三浦郡葉山町架空二丁目４番５号"
    assert (r.payment_amount, r.income_after_deduction, r.total_deductions) == (
        5_000_000,
        3_560_000,
        1_650_000,
    )
    assert (r.withholding_tax, r.social_insurance, r.basic_deduction) == (52_000, 720_000, 480_000)
    assert r.unpaid_amount is None  # blank, not 0
    assert r.life_insurance_deduction == 100_000
    assert (
        r.new_life_premium,
        r.old_life_premium,
        r.care_medical_premium,
        r.new_private_pension_premium,
        r.old_private_pension_premium,
    ) == (80_000, 40_000, 30_000, 20_000, None)
    assert r.earthquake_insurance_deduction == 30_000
    assert r.housing_loan_deduction is None
    assert (r.spouse_status, r.spouse_deduction) == ("1", 380_000)
    assert r.spouse is not None
    assert (r.spouse.name, r.spouse.kana, r.spouse.residency, r.spouse.elderly) == (
        "見本　春子",
        "ミホン ハルコ",
        "00",
        False,
    )
    assert r.spouse.my_number == samples["my_number"]("10000000002")
    assert [(d.name, d.kana) for d in r.dependents] == [("見本　一男", "ミホン カズオ")]
    assert [d.name for d in r.dependents_under16] == ["見本　二葉"]
    assert (r.specific_dependents, r.under16_dependents) == (1, 1)
    assert not r.ordinary_collection
    assert r.creation_kind == "2"


def test_employee_without_my_number_is_a_warning_only(salary_file: ReportFile) -> None:
    r = report(salary_file, 2)
    assert r.my_number == ""
    assert problems_of(salary_file, 2) == {(95, "支払を受ける者 個人番号", "warning")}
    assert salary_file.records[1].ok


def test_ordinary_collection_and_mid_year_retirement(salary_file: ReportFile) -> None:
    r = report(salary_file, 2)
    assert r.ordinary_collection
    assert (r.ordinary_collection_reason, r.ordinary_collection_reason_label) == (
        "普F",
        "退職者・退職予定者（5月末日まで）・休職者",
    )
    assert (r.employment_change, r.employment_change_date) == ("退職", date(2024, 9, 30))
    assert r.birth_date == date(1998, 12, 24)  # 元号 4 = 平成


def test_elderly_spouse_and_four_dependants(salary_file: ReportFile) -> None:
    r = report(salary_file, 3)
    assert r.spouse is not None and r.spouse.elderly
    assert [d.name for d in r.dependents] == ["仮名　健二", "仮名　とめ", "仮名　善蔵", "仮名　満"]
    assert r.dependents[3].my_number == ""
    assert (r.elderly_dependents, r.elderly_parents_cohabiting, r.other_dependents) == (2, 1, 1)
    assert (r.special_disabled_relatives, r.special_disabled_cohabiting) == (1, 1)
    assert r.small_enterprise_mutual_aid == 276_000
    assert r.housing_loan_deduction == 180_000


def test_mid_year_hire_with_previous_employer(salary_file: ReportFile) -> None:
    r = report(salary_file, 4)
    assert (r.employment_change, r.employment_change_date) == ("就職", date(2024, 4, 1))
    assert (r.previous_payer_name, r.previous_payer_address) == (
        "架空商事株式会社",
        "東京都千代田区架空町１番",
    )
    assert (
        r.previous_payment_amount,
        r.previous_withholding_tax,
        r.previous_social_insurance,
    ) == (900_000, 9_000, 130_000)
    assert r.previous_retired_on == date(2024, 3, 31)
    assert r.birth_date == date(1996, 2, 29)


def test_single_parent(salary_file: ReportFile) -> None:
    r = report(salary_file, 5)
    assert r.single_parent and not r.widow
    assert [d.kana for d in r.dependents_under16] == ["カクウ ヒカリ"]


def test_malformed_records_are_reported_by_line_and_item(salary_file: ReportFile) -> None:
    assert problems_of(salary_file, 6) == {
        (17, "支払金額", "error"),
        (45, "受給者の生年月日 年", "error"),
        (95, "支払を受ける者 個人番号", "error"),
        (139, "提出先市町村コード", "error"),
    }
    by_column = {p.column: p for p in salary_file.records[5].problems}
    assert by_column[17].value == "12a000"
    assert by_column[17].reason == "数字以外の文字があります"
    assert "令和元年5月10日" in by_column[45].reason
    assert by_column[95].reason == "個人番号の検査用数字が正しくありません"
    assert by_column[139].reason == "提出先市町村コードの検査数字が正しくありません"
    r = report(salary_file, 6)  # still read, with what could be read
    assert (r.name, r.payment_amount, r.birth_date) == ("不正　四郎", None, None)
    truncated = salary_file.records[6]
    assert truncated.report is None
    assert [str(p) for p in truncated.problems] == [
        "エラー: 7行目「項目数」 項目数が50です（この様式は144・98項目）"
    ]


def test_summary_is_what_the_records_say(salary_file: ReportFile) -> None:
    first = salary_file.summaries[0]
    assert first.payer.name == "見本工業株式会社"
    assert (first.municipality_code, first.designated_number) == ("143014", "0000123456")
    assert (first.recipients, first.special_collection, first.ordinary_collection) == (5, 4, 1)
    assert first.lines == (1, 2, 3, 4, 5)


def test_pension_sample() -> None:
    with PENSION.open("rb") as f:
        pf = read_pension_reports(f)
    assert (pf.record_kind, pf.encoding) == ("331", "utf-8")
    assert [r.layout for r in pf.records] == ["331-H26"] * 3
    first = pf.records[0].report
    assert isinstance(first, PensionReport)
    assert (first.name, first.kana, first.birth_date) == (
        "見本　梅子",
        "ミホン ウメコ",
        date(1945, 3, 3),
    )
    assert (first.payment_amount, first.withholding_tax, first.social_insurance) == (
        1_800_000,
        12_000,
        150_000,
    )
    assert first.amounts[0].payment == 1_800_000 and first.amounts[1].payment is None
    assert first.widow and first.my_number == ""
    assert {(p.line, p.column, p.item) for p in pf.all_problems()} == {
        (3, 16, "受給者の生年月日 年")
    }
    assert "平成元年2月1日" in pf.all_problems()[0].reason
    (summary,) = pf.summaries
    assert (summary.recipients, summary.special_collection) == (3, None)


# --- 文字コード -----------------------------------------------------------------------------


def test_encoding_detection_gives_the_same_reports() -> None:
    text = SALARY.read_bytes().decode("cp932")
    variants = {
        "cp932": text.encode("cp932"),
        "utf-8": text.encode("utf-8"),
        "utf-8-sig": b"\xef\xbb\xbf" + text.encode("utf-8"),
    }
    results = {name: salary(data) for name, data in variants.items()}
    assert {name: rf.encoding for name, rf in results.items()} == {
        "cp932": "cp932",
        "utf-8": "utf-8",
        "utf-8-sig": "utf-8-sig",
    }
    reports = [rf.reports for rf in results.values()]
    assert reports[0] == reports[1] == reports[2]


def test_explicit_encoding_and_bom() -> None:
    text = SALARY.read_bytes().decode("cp932")
    assert salary(text.encode("cp932"), "Shift_JIS").encoding == "cp932"
    with_bom = salary(b"\xef\xbb\xbf" + text.encode("utf-8"), "utf-8")
    assert with_bom.records[0].ok  # the BOM is not part of 法定資料の種類


def test_undecodable_file_names_offset_and_line() -> None:
    good = SALARY.read_bytes().decode("cp932").encode("utf-8")
    bad = good.split(b"\r\n", 2)
    data = bad[0] + b"\r\n" + bad[1] + b"\r\n\xff\xff" + bad[2]
    with pytest.raises(ReportFileError) as e:
        salary(data)
    assert e.value.line == 3
    assert e.value.offset == data.index(b"\xff\xff")
    assert "3行目" in str(e.value)


def test_wrong_explicit_encoding_is_refused() -> None:
    with pytest.raises(ReportFileError, match=r"utf-8 として読めません: \d+バイト目（1行目）"):
        salary(SALARY.read_bytes(), "utf-8")
    with pytest.raises(ReportFileError, match="対応していません"):
        salary(b"315", "euc-jp")


def test_nul_bytes_are_not_csv() -> None:
    with pytest.raises(ReportFileError, match="NUL"):
        salary(b"315,\x00\n")


# --- レコードと項目 ---------------------------------------------------------------------------


def row(values: dict[int, str] | None = None) -> str:
    """A valid 144-item record (見本 太郎 of the sample) with ``values`` replaced."""
    cells = samples["salary_row"](samples["TARO"]).split(",")
    for number, value in (values or {}).items():
        cells[number - 1] = value
    return ",".join(cells)


def one(line: str, encoding: str = "utf-8") -> tuple[SalaryReport | None, list[Problem]]:
    rf = salary((line + "\n").encode(encoding))
    (record,) = rf.records
    assert record.report is None or isinstance(record.report, SalaryReport)
    return record.report, list(record.problems)


def test_the_valid_row_has_no_problems() -> None:
    r, problems = one(row())
    assert r is not None and problems == []


@pytest.mark.parametrize(
    ("values", "column", "reason"),
    [
        ({14: ""}, 14, "必須の項目が空です"),
        ({137: ""}, 137, "必須の項目が空です"),
        ({44: "9"}, 44, "使えない値です（1・2・3・4・5 のいずれか）"),
        ({46: "13"}, 45, "受給者の生年月日: 昭和60年13月1日は暦にない日付です"),
        (
            {45: "65", 46: "01", 47: "01"},
            45,
            "受給者の生年月日: 昭和65年1月1日は昭和の期間にありません（平成2年1月1日）",
        ),
        ({17: "12345678901"}, 17, "10桁を超えています（11桁）"),
        ({134: "2"}, 134, "0 又は 1 で記録してください"),
        ({10: "5"}, 10, "使えない値です（0・1・2・3 のいずれか）"),
        ({11: "00"}, 11, "年分: 令和0年という年はありません"),
        ({94: "1234567890123"}, 94, "法人番号の検査用数字が正しくありません"),
        ({94: "12345"}, 94, "法人番号（13桁）又は個人番号（12桁）ではありません"),
        ({99: "123456789012"}, 99, "個人番号の検査用数字が正しくありません"),
        ({103: "12345678901"}, 103, "個人番号は半角数字12桁です"),
        ({139: "1430"}, 139, "提出先市町村コードは数字5桁又は6桁です"),
        ({138: "Ｅ０００１"}, None, ""),  # NFKC: full-width ASCII is fine
        ({6: "〇四六"}, 6, "半角英数字で記録してください"),
        ({98: "02"}, 98, "使えない値です（00・01 のいずれか）"),
        ({144: ""}, 144, "必須の項目が空です"),
    ],
)
def test_item_checks(values: dict[int, str], column: int | None, reason: str) -> None:
    _, problems = one(row(values))
    errors = [(p.column, p.reason) for p in problems if p.severity == "error"]
    assert errors == ([(column, reason)] if reason else [])


@pytest.mark.parametrize(
    ("values", "column", "reason"),
    [
        ({137: "みほんたろう"}, 137, "フリガナに片仮名以外の文字があります"),
        ({14: "見" * 31}, 14, "30文字を超えています（31文字）"),
        ({134: "1"}, 134, "普通徴収の切替理由（普A〜普F）が摘要にありません"),
        ({86: "普Ａ"}, 86, "摘要に「普A」がありますが普通徴収が1ではありません"),
        ({144: "0"}, 144, "作成区分が「国税のみ」のレコードです"),
        (
            {60: "1", 61: "05", 62: "04", 63: "01"},
            61,
            "中途就・退職の年月日が年分（2024年）の日付ではありません",
        ),
    ],
)
def test_warnings(values: dict[int, str], column: int, reason: str) -> None:
    _, problems = one(row(values))
    assert [(p.column, p.reason, p.severity) for p in problems] == [(column, reason, "warning")]


def test_five_digit_municipality_code_gets_its_check_digit() -> None:
    r, problems = one(row({139: "14301"}))
    assert r is not None and r.municipality_code == "143014" and problems == []


def test_payer_with_a_personal_number() -> None:
    number = samples["my_number"]("20000000001")
    r, problems = one(row({94: number}))
    assert r is not None and r.payer.number_kind == "個人番号" and problems == []


def test_heisei_31_year_and_era_codes() -> None:
    r, _ = one(row({11: "31", 45: "31", 44: "4", 46: "04", 47: "30"}))
    assert r is not None and r.year == 2019 and r.birth_date == date(2019, 4, 30)
    assert ERA_CODES == {"1": "昭和", "2": "大正", "3": "明治", "4": "平成", "5": "令和"}
    r, _ = one(row({44: "5", 45: "01", 46: "05", 47: "01"}))
    assert r is not None and r.birth_date == date(2019, 5, 1)
    r, _ = one(row({44: "3", 45: "45", 46: "07", 47: "29"}))
    assert r is not None and r.birth_date == date(1912, 7, 29)


def test_header_line_and_other_record_kinds_are_problems() -> None:
    rf = salary(("法定資料の種類,整理番号1\n" + row() + "\n" + row({1: "331"})).encode())
    assert [(r.line, r.report is None) for r in rf.records] == [(1, True), (2, False), (3, True)]
    assert rf.records[0].problems[0].reason.startswith("法定資料の種類が「315」ではありません")
    assert rf.records[0].problems[0].column == 1


def test_blank_lines_are_skipped_and_an_empty_file_is_a_problem() -> None:
    rf = salary(("\n" + row() + "\n\n,,,\n").encode())
    assert [r.line for r in rf.records] == [2]
    empty = salary(b"")
    assert empty.records == () and [p.reason for p in empty.problems] == ["レコードがありません"]


def test_trailing_comma_is_a_warning() -> None:
    r, problems = one(row() + ",")
    assert r is not None
    assert [(p.item, p.severity) for p in problems] == [("項目数", "warning")]
    r, problems = one(row() + ",x")
    assert r is None and problems[0].reason == "項目数が145です（この様式は144・98項目）"


def test_eltax_prefix_and_quoted_cells() -> None:
    r, problems = one("A0001@" + row())
    assert r is not None and problems == []
    quoted = row({86: '"摘要,カンマあり"'})
    r, problems = one(quoted)
    assert r is not None and r.remarks == "摘要,カンマあり" and problems == []


def test_heisei_26_layout_without_my_numbers() -> None:
    cells = row().split(",")
    old = cells[:91] + cells[133:136] + [cells[136], cells[137], cells[138], cells[139]]
    assert len(old) == len(SALARY_H26.columns) == 98
    rf = salary((",".join(old) + "\n").encode())
    (record,) = rf.records
    assert record.layout == "315-H26"
    r = record.report
    assert isinstance(r, SalaryReport)
    assert (r.name, r.kana, r.my_number, r.municipality_code) == (
        "見本　太郎",
        "ミホン タロウ",
        "",
        "143014",
    )
    assert r.dependents == () and r.spouse is None  # no person columns in this layout
    assert record.problems == ()  # no my-number warning: the layout has no such column
    assert r.year == 2024 - 30  # 年分 06 in this layout is 平成6年


def test_layout_tables() -> None:
    assert [len(x.columns) for x in LAYOUTS["315"]] == [144, 98]
    assert len(PENSION_H26.columns) == 49
    assert SALARY_R2.columns[94].item == "支払を受ける者 個人番号"
    assert SALARY_R2.columns[136].field == "kana"
    assert [c.item for c in SALARY_R2.columns[99:103]] == [
        "控除対象扶養親族1 フリガナ",
        "控除対象扶養親族1 氏名",
        "控除対象扶養親族1 区分",
        "控除対象扶養親族1 個人番号",
    ]
    for layout in (SALARY_R2, SALARY_H26, PENSION_H26):
        assert [c.number for c in layout.columns] == list(range(1, len(layout.columns) + 1))


def test_the_layout_document_matches_the_tables() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "tax-inputs-layout.md").read_text(
        encoding="utf-8"
    )
    for layout in (SALARY_R2, SALARY_H26, PENSION_H26):
        assert f"### {layout.id}: " in doc
        for c in layout.columns:
            if layout is SALARY_H26 and 12 <= c.number <= 91:
                continue  # shared with 315-R2
            assert f"| {c.number} | {c.item} |" in doc, (layout.id, c.number)


# --- 検査数字・和暦 ----------------------------------------------------------------------------


def test_corporate_number_check_digit() -> None:
    assert corporate_number_check_digit("000012050002") == 7  # 7000012050002 (国税庁)
    assert corporate_number_problem("7000012050002") is None
    assert corporate_number_problem("8000012050002") == "法人番号の検査用数字が正しくありません"
    assert corporate_number_problem("700001205000") == "法人番号は半角数字13桁です"
    with pytest.raises(ValueError):
        corporate_number_check_digit("12345")


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(0, 9))
def test_corporate_number_only_one_check_digit_fits(base: str, digit: int) -> None:
    check = corporate_number_check_digit(base)
    assert 1 <= check <= 9
    assert (corporate_number_problem(f"{digit}{base}") is None) == (digit == check)


def test_my_number_check_digit_from_the_registry_rules() -> None:
    _, problems = one(row({95: "123456789018"}))  # the 総務省 example number
    assert problems == []
    assert samples["my_number"]("12345678901") == "123456789018"


def test_local_government_check_digit() -> None:
    assert local_government_check_digit("14301") == 4  # 143014
    assert local_government_check_digit("01100") == 2  # 011002
    assert local_government_check_digit("13101") == 6  # 131016


def test_wareki_to_date() -> None:
    assert wareki_to_date("令和", 6, 2, 29) == (date(2024, 2, 29), None)
    assert wareki_to_date("令和", 6, 2, 30) == (None, "令和6年2月30日は暦にない日付です")
    assert wareki_to_date("平成", 31, 4, 30) == (date(2019, 4, 30), None)
    assert (
        wareki_to_date("平成", 31, 5, 1)[1]
        == "平成31年5月1日は平成の期間にありません（令和元年5月1日）"
    )
    assert (
        wareki_to_date("令和", 1, 4, 30)[1]
        == "令和元年4月30日は令和の期間にありません（平成31年4月30日）"
    )
    assert wareki_to_date("昭和", 64, 1, 7) == (date(1989, 1, 7), None)
    assert wareki_to_date("大正", 15, 12, 25)[0] is None
    assert wareki_to_date("寛永", 1, 1, 1)[1] == "元号「寛永」は使えません"
    assert decode("令和".encode("cp932")) == ("令和", "cp932")
