"""Generates the tax-input samples in this folder (run: python tests/data/tax/make_samples.py).

``salary_r6_cp932.csv``: 給与支払報告書（個人別明細書） 令和6年分, record 315 in the 144-item
layout of ``docs/tax-inputs-layout.md``, CP932, CRLF. One employer (見本工業株式会社, 法人番号
with a valid check digit), five employees — 見本 太郎 with a spouse, a dependant and a child under
16; 試験 花子 without 個人番号, 普通徴収 (普F) and 中途退職; 仮名 一郎 with an elderly spouse and
four dependants; 例示 次郎 中途就職 with 前職分; 架空 三郎 ひとり親 — then one record with bad
values (個人番号 check digit, 平成31年5月, a letter in 支払金額, 市町村コード check digit) and one
truncated record.

``pension_r6_utf8.csv``: 公的年金等支払報告書 令和6年分, record 331 in the 49-item layout, UTF-8
without BOM, LF: two recipients and one with an impossible birth date (昭和64年2月1日).

Every person, number and company is invented; the numbers only have valid check digits.
Column numbers are written out here independently of the reader's layout table.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SALARY_FILE = HERE / "salary_r6_cp932.csv"
PENSION_FILE = HERE / "pension_r6_utf8.csv"


def my_number(eleven: str) -> str:
    total = sum(int(d) * w for d, w in zip(eleven, (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True))
    r = total % 11
    return eleven + str(0 if r <= 1 else 11 - r)


def corporate_number(twelve: str) -> str:
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(twelve), start=1))
    return str(9 - total % 9) + twelve


def bad_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


EMPLOYER = {
    4: "神奈川県三浦郡葉山町架空一丁目２番３号",
    5: "見本工業株式会社",
    6: "046-000-0000",
    10: "0",
    11: "06",
    94: corporate_number("900000000012"),
    139: "143014",  # 葉山町 (real 団体コード; everything else is invented)
    140: "0000123456",
    144: "2",
}


def salary_row(values: dict[int, str], width: int = 144) -> str:
    row = {1: "315", **EMPLOYER, **values}
    return ",".join(row.get(n, "") for n in range(1, width + 1))


def person(start: int, kana: str, name: str, number: str) -> dict[int, str]:
    return {start: kana, start + 1: name, start + 2: "00", start + 3: number}


TARO = {
    12: "神奈川県三浦郡葉山町架空二丁目４番５号",
    14: "見本　太郎",
    16: "給料・賞与",
    17: "5000000",
    19: "3560000",
    20: "1650000",
    21: "52000",
    23: "1",
    25: "380000",
    26: "1",
    31: "0",
    36: "720000",
    38: "100000",
    39: "30000",
    44: "1",  # 昭和
    45: "60",
    46: "04",
    47: "01",
    87: "80000",
    88: "40000",
    89: "30000",
    90: "20000",
    91: "1",
    95: my_number("10000000001"),
    **person(96, "ﾐﾎﾝ ﾊﾙｺ", "見本　春子", my_number("10000000002")),
    **person(100, "ﾐﾎﾝ ｶｽﾞｵ", "見本　一男", my_number("10000000003")),
    **person(116, "ﾐﾎﾝ ﾌﾀﾊﾞ", "見本　二葉", my_number("10000000004")),
    137: "ﾐﾎﾝ ﾀﾛｳ",
    138: "E0001",
    141: "480000",
}
HANAKO = {
    12: "神奈川県三浦郡葉山町架空三丁目６番７号",
    14: "試験　花子",
    16: "給料",
    17: "1200000",
    19: "650000",
    20: "620000",
    21: "0",
    36: "140000",
    44: "4",  # 平成
    45: "10",
    46: "12",
    47: "24",
    57: "0",
    60: "2",  # 退職
    61: "06",
    62: "09",
    63: "30",
    86: "普F　退職",
    134: "1",
    137: "ｼｹﾝ ﾊﾅｺ",
    138: "E0002",
    141: "480000",
}
ICHIRO = {
    12: "神奈川県三浦郡葉山町架空四丁目８番９号",
    14: "仮名　一郎",
    16: "給料・賞与",
    17: "8200000",
    19: "6250000",
    20: "2980000",
    21: "280000",
    23: "1",
    24: "1",
    25: "480000",
    26: "1",
    28: "2",
    29: "1",
    31: "1",
    33: "1",
    34: "1",
    36: "1180000",
    37: "276000",
    38: "120000",
    39: "50000",
    40: "180000",
    44: "1",  # 昭和
    45: "33",
    46: "07",
    47: "15",
    95: my_number("10000000011"),
    **person(96, "ｶﾘﾅ ｳﾒ", "仮名　うめ", my_number("10000000012")),
    **person(100, "ｶﾘﾅ ｹﾝｼﾞ", "仮名　健二", my_number("10000000013")),
    **person(104, "ｶﾘﾅ ﾄﾒ", "仮名　とめ", my_number("10000000014")),
    **person(108, "ｶﾘﾅ ｾﾞﾝｿﾞｳ", "仮名　善蔵", my_number("10000000015")),
    **person(112, "ｶﾘﾅ ﾐﾂﾙ", "仮名　満", ""),
    137: "ｶﾘﾅ ｲﾁﾛｳ",
    138: "E0003",
    141: "480000",
}
JIRO = {
    12: "神奈川県三浦郡葉山町架空五丁目１０番",
    14: "例示　次郎",
    16: "給料",
    17: "2700000",
    19: "1820000",
    20: "850000",
    21: "25000",
    36: "400000",
    44: "4",  # 平成
    45: "08",
    46: "02",
    47: "29",
    60: "1",  # 就職
    61: "06",
    62: "04",
    63: "01",
    64: "東京都千代田区架空町１番",
    66: "架空商事株式会社",
    67: "900000",
    68: "9000",
    69: "130000",
    71: "06",
    72: "03",
    73: "31",
    95: my_number("10000000021"),
    137: "ﾚｲｼﾞ ｼﾞﾛｳ",
    138: "E0004",
    141: "480000",
}
SABURO = {
    12: "神奈川県三浦郡葉山町架空六丁目１１番",
    14: "架空　三郎",
    16: "給料",
    17: "3600000",
    19: "2440000",
    20: "1340000",
    21: "30000",
    36: "540000",
    44: "1",
    45: "55",
    46: "11",
    47: "03",
    91: "1",
    95: my_number("10000000031"),
    **person(116, "ｶｸｳ ﾋｶﾘ", "架空　ひかり", my_number("10000000032")),
    137: "ｶｸｳ ｻﾌﾞﾛｳ",
    138: "E0005",
    141: "480000",
    143: "1",
}
BROKEN = {
    12: "神奈川県三浦郡葉山町架空七丁目１２番",
    14: "不正　四郎",
    17: "12a000",
    44: "4",
    45: "31",  # 平成31年5月10日 does not exist (令和元年)
    46: "05",
    47: "10",
    95: bad_check_digit(my_number("10000000041")),
    137: "ﾌｾｲ ｼﾛｳ",
    138: "E0006",
    139: "143015",  # wrong check digit
}


def salary_bytes() -> bytes:
    rows = [salary_row(r) for r in (TARO, HANAKO, ICHIRO, JIRO, SABURO, BROKEN)]
    rows.append(",".join(salary_row(BROKEN).split(",")[:50]))  # truncated: 50 items
    return ("\r\n".join(rows) + "\r\n").encode("cp932")


PAYER = {
    4: "東京都千代田区架空町二丁目３番",
    5: "見本年金基金",
    10: "0",
    11: "06",
    48: "143014",
    49: "",
}


def pension_row(values: dict[int, str]) -> str:
    row = {1: "331", **PAYER, **values}
    return ",".join(row.get(n, "") for n in range(1, 50))


UME = {
    12: "神奈川県三浦郡葉山町架空八丁目１番",
    14: "見本　梅子",
    15: "1",
    16: "20",
    17: "03",
    18: "03",
    19: "1800000",
    21: "12000",
    39: "150000",
    44: "1",
    46: "ﾐﾎﾝ ｳﾒｺ",
    47: "P0001",
}
MATSUO = {
    12: "神奈川県三浦郡葉山町架空八丁目２番",
    14: "試験　松男",
    15: "1",
    16: "25",
    17: "10",
    18: "10",
    19: "2400000",
    21: "30600",
    34: "1",
    39: "210000",
    41: "見本年金基金　加算年金",
    46: "ｼｹﾝ ﾏﾂｵ",
    47: "P0002",
}
TAKE = {
    12: "神奈川県三浦郡葉山町架空八丁目３番",
    14: "例示　竹子",
    15: "1",
    16: "64",  # 昭和64年2月1日 does not exist (平成元年)
    17: "02",
    18: "01",
    19: "600000",
    46: "ﾚｲｼﾞ ﾀｹｺ",
    47: "P0003",
}


def pension_bytes() -> bytes:
    return "".join(pension_row(r) + "\n" for r in (UME, MATSUO, TAKE)).encode("utf-8")


if __name__ == "__main__":
    SALARY_FILE.write_bytes(salary_bytes())
    PENSION_FILE.write_bytes(pension_bytes())
    print(f"wrote {SALARY_FILE.name}, {PENSION_FILE.name}")
