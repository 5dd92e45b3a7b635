"""Pure platform rules: code check digits, role meanings. No Django, no I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

PREFECTURES: tuple[str, ...] = (
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
)


def local_government_check_digit(five_digits: str) -> int:
    """検査数字 of a 全国地方公共団体コード: weights 6,5,4,3,2; last digit of 11 − (Σ mod 11).

    >>> local_government_check_digit("01100")  # 札幌市 011002
    2
    """
    if len(five_digits) != 5 or not five_digits.isascii() or not five_digits.isdigit():
        raise ValueError("団体コードの上5桁は半角数字5桁です")
    total = sum(int(d) * w for d, w in zip(five_digits, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


def corporate_number_check_digit(twelve: str) -> int:
    """法人番号の検査用数字: 9 − (Σ Pn×Qn mod 9), n from the right, Qn = 1 (odd n) / 2 (even n)."""
    if len(twelve) != 12 or not twelve.isascii() or not twelve.isdigit():
        raise ValueError("法人番号の基礎番号は数字12桁です")
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(twelve), start=1))
    return 9 - total % 9


def corporate_number_problem(number: str) -> str | None:
    """Why ``number`` is not a valid 13-digit 法人番号 (check digit first), or None."""
    if len(number) != 13 or not number.isascii() or not number.isdigit():
        return "法人番号は半角数字13桁です"
    if corporate_number_check_digit(number[1:]) != int(number[0]):
        return "法人番号の検査用数字が正しくありません"
    return None


def validate_local_government_code(code: str) -> str | None:
    """Why ``code`` is not a valid 6-digit 全国地方公共団体コード, or None when it is."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return "団体コードは半角数字6桁で入力してください"
    prefecture = int(code[:2])
    if not 1 <= prefecture <= 47:
        return f"団体コードの上2桁（都道府県コード {code[:2]}）が範囲外です"
    if local_government_check_digit(code[:5]) != int(code[5]):
        return f"団体コード {code} の検査数字が正しくありません"
    return None


def prefecture_of(code: str) -> str:
    """The 都道府県 named by the first two digits of a 団体コード."""
    return PREFECTURES[int(code[:2]) - 1]


GENESIS_HASH = "0" * 64


def chain_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the record's canonical JSON (sorted keys, UTF-8)."""
    body = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + "\n" + body).encode("utf-8")).hexdigest()
