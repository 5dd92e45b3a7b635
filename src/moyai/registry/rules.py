"""住民記録の規則: pure functions and value types. No Django, no I/O.

Sources: 住民基本台帳法 (届出期間 第22〜25条), 年齢計算ニ関スル法律, 住民記録システム標準仕様書
(不詳日, 続柄, 宛名番号の検査数字), 平成14年総務省告示第436号 (住民票コード), see
``shared/reference/standard-data.md``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

# --- 不詳日 -------------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class FuzzyDate:
    """A date that may be partly or wholly unknown (不詳日), or not on the calendar.

    ``iso`` is ``YYYY-MM-DD``; when ``unknown`` it holds the best date known for ordering (e.g.
    ``1950-01-01`` for 「昭和25年頃」) and ``label`` (不詳表記) is what documents print. Dates such
    as 2月29日 of a non-leap year or 明治45年7月30日 are kept as written (``is_calendar_date``).
    """

    iso: str
    unknown: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        m = _ISO.match(self.iso)
        if not m:
            raise ValueError(f"日付は YYYY-MM-DD で入力してください: {self.iso!r}")
        month, day = int(m.group(2)), int(m.group(3))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise ValueError(f"月日が範囲外です: {self.iso!r}")
        if self.unknown and not self.label.strip():
            raise ValueError("不詳の日付には不詳表記（例:「昭和25年頃」）が必要です")

    @classmethod
    def of(cls, value: date) -> FuzzyDate:
        return cls(value.isoformat())

    @property
    def is_calendar_date(self) -> bool:
        try:
            date.fromisoformat(self.iso)
        except ValueError:
            return False
        return True

    def as_date(self) -> date | None:
        """The calendar date, or None when unknown or not on the calendar."""
        if self.unknown or not self.is_calendar_date:
            return None
        return date.fromisoformat(self.iso)

    def sort_key(self) -> str:
        return self.iso


# --- 和暦 ---------------------------------------------------------------------------------------

ERAS: tuple[tuple[str, date], ...] = (
    ("令和", date(2019, 5, 1)),
    ("平成", date(1989, 1, 8)),
    ("昭和", date(1926, 12, 25)),
    ("大正", date(1912, 7, 30)),
    ("明治", date(1868, 10, 23)),
)


# --- dates typed at the 窓口 (西暦 or 和暦) -----------------------------------------------
_WESTERN = re.compile(r"^(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?$")
_WAREKI = re.compile(r"^(明治|大正|昭和|平成|令和)(元|\d{1,2})年(?:(\d{1,2})月(?:(\d{1,2})日)?)?$")
_ERA_SPAN = {
    name: (start, ERAS[i - 1][1] - timedelta(days=1) if i else date.max)
    for i, (name, start) in enumerate(ERAS)
}
DATE_EXAMPLE = "例: 1985-04-01、昭和60年4月1日"


def _typed_date(text: str) -> tuple[int, int | None, int | None]:
    """(year, month, day) of a date typed at the 窓口 in 西暦 or 和暦, month and day optional
    in 和暦 (平成27年4月, 平成14年); ValueError when it is neither or the era had no such day."""
    text = unicodedata.normalize("NFKC", text).replace(" ", "")
    m = _WESTERN.match(text)
    if m:
        y, mo, d = int(m[1]), int(m[2]), None if m[3] is None else int(m[3])
        date(y, mo, d or 1)  # a month or day that does not exist raises ValueError
        return y, mo, d
    m = _WAREKI.match(text)
    if not m:
        raise ValueError(text)
    n = 1 if m[2] == "元" else int(m[2])
    start, end = _ERA_SPAN[m[1]]
    y = start.year + n - 1
    if m[4] is not None:
        first = last = date(y, int(m[3]), int(m[4]))
    elif m[3] is not None:
        first = date(y, int(m[3]), 1)
        last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    else:
        first, last = date(y, 1, 1), date(y, 12, 31)
    if n < 1 or first > end or last < start:  # 昭和65年, 平成元年1月7日 …
        raise ValueError(text)
    return y, None if m[3] is None else int(m[3]), None if m[4] is None else int(m[4])


def iso_date_from_text(text: str) -> str:
    """A whole date typed as 西暦 (1985-04-01, 1985/4/1) or 和暦 (昭和60年4月1日, 平成元年1月8日)
    → ``YYYY-MM-DD``; ValueError when it is neither or the era had no such day."""
    y, mo, d = _typed_date(text)
    if mo is None or d is None:
        raise ValueError(text)
    return f"{y:04d}-{mo:02d}-{d:02d}"


def iso_month_from_text(text: str) -> str:
    """A month typed as 西暦 (2015-04) or 和暦 (平成27年4月), or a year alone (2002, 平成14年)
    → ``YYYY-MM`` or ``YYYY``; ValueError when it is none of these."""
    text = unicodedata.normalize("NFKC", text).strip()
    if re.fullmatch(r"\d{4}", text):
        return text
    y, mo, d = _typed_date(text)
    if d is not None:
        raise ValueError(text)
    return f"{y:04d}" if mo is None else f"{y:04d}-{mo:02d}"


def wareki(value: date) -> str:
    """令和8年4月1日 style; the first year of an era is 元年."""
    for name, start in ERAS:
        if value >= start:
            year = value.year - start.year + 1
            y = "元" if year == 1 else str(year)
            return f"{name}{y}年{value.month}月{value.day}日"
    return f"{value.year}年{value.month}月{value.day}日"


def format_fuzzy(value: FuzzyDate | None, *, western: bool = False) -> str:
    """How a 住民票 prints a possibly unknown date: 不詳表記, 和暦, or 西暦 (外国人住民)."""
    if value is None:
        return ""
    if value.unknown:
        return value.label
    y, m, d = (int(p) for p in value.iso.split("-"))
    if western:
        return f"{y}年{m}月{d}日"
    if value.is_calendar_date:
        return wareki(date(y, m, d))
    # Not on the calendar (e.g. 明治45年7月30日 as written in 戸籍): era from the month's start.
    return wareki(date(y, m, 1)).rsplit("月", 1)[0] + f"月{d}日"


# --- 年齢 ---------------------------------------------------------------------------------------


def age_on(birth: date, on: date) -> int:
    """Age in completed years on ``on`` under 年齢計算ニ関スル法律.

    A year of age is completed at the end of the day before the anniversary of birth, so on the
    day before the birthday the person already has the new age (born 4月2日 → 6 on 4月1日).
    For a 2月29日 birth the anniversary in a non-leap year is 3月1日, so the age changes at the
    end of 2月28日.
    """
    if on < birth:
        raise ValueError("基準日が生年月日より前です")
    return _completed_years(birth, on + timedelta(days=1))


def _completed_years(birth: date, on: date) -> int:
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years


def age_attained_on(birth: date, years: int) -> date:
    """The day on which ``years`` of age are attained (the day before the anniversary)."""
    try:
        anniversary = birth.replace(year=birth.year + years)
    except ValueError:  # 2月29日 in a non-leap year → 3月1日
        anniversary = date(birth.year + years, 3, 1)
    return anniversary - timedelta(days=1)


# --- 届出期間 -----------------------------------------------------------------------------------


class MovementKind(StrEnum):
    """異動事由 (記載・消除・修正)."""

    MOVE_IN = "move_in"  # 国内転入
    MOVE_IN_FROM_ABROAD = "move_in_abroad"  # 国外転入
    BIRTH = "birth"  # 出生
    AUTHORITY_ENTRY = "authority_entry"  # 職権記載
    MOVE_OUT = "move_out"  # 国内転出（予定）
    MOVE_OUT_CONFIRMED = "move_out_confirmed"  # 転出確定（転入通知）
    MOVE_OUT_ABROAD = "move_out_abroad"  # 国外転出
    DEATH = "death"  # 死亡
    AUTHORITY_REMOVAL = "authority_removal"  # 職権消除
    RELOCATION = "relocation"  # 転居
    HOUSEHOLD_SEPARATION = "household_separation"  # 世帯分離
    HOUSEHOLD_MERGE = "household_merge"  # 世帯合併
    HOUSEHOLD_CHANGE = "household_change"  # 世帯構成変更（世帯変更）
    HEAD_CHANGE = "head_change"  # 世帯主変更
    AUTHORITY_CORRECTION = "authority_correction"  # 職権修正
    FAMILY_REGISTER_CHANGE = "family_register_change"  # 氏名・本籍の変更（戸籍届出）
    CLERICAL_CORRECTION = "clerical_correction"  # 誤記修正
    CANCELLATION = "cancellation"  # 異動の取消し
    MIGRATION = "migration"  # データ移行による記載（旧システムからの移行）

    @property
    def label(self) -> str:
        return MOVEMENT_LABELS[self]


MOVEMENT_LABELS: dict[MovementKind, str] = {
    MovementKind.MOVE_IN: "転入",
    MovementKind.MOVE_IN_FROM_ABROAD: "国外転入",
    MovementKind.BIRTH: "出生",
    MovementKind.AUTHORITY_ENTRY: "職権記載",
    MovementKind.MOVE_OUT: "転出",
    MovementKind.MOVE_OUT_CONFIRMED: "転出確定",
    MovementKind.MOVE_OUT_ABROAD: "国外転出",
    MovementKind.DEATH: "死亡",
    MovementKind.AUTHORITY_REMOVAL: "職権消除",
    MovementKind.RELOCATION: "転居",
    MovementKind.HOUSEHOLD_SEPARATION: "世帯分離",
    MovementKind.HOUSEHOLD_MERGE: "世帯合併",
    MovementKind.HOUSEHOLD_CHANGE: "世帯構成変更",
    MovementKind.HEAD_CHANGE: "世帯主変更",
    MovementKind.AUTHORITY_CORRECTION: "職権修正",
    MovementKind.FAMILY_REGISTER_CHANGE: "氏名・本籍の変更",
    MovementKind.CLERICAL_CORRECTION: "誤記修正",
    MovementKind.CANCELLATION: "異動の取消し",
    MovementKind.MIGRATION: "データ移行による記載",
}

# 住民基本台帳法 第22条（転入）・第23条（転居）・第25条（世帯変更）: 14日以内.
# 第24条（転出）は「あらかじめ」届け出る（転出後の届出は14日以内の扱い）.
# 出生は戸籍法第49条で14日以内、死亡は戸籍法第86条で7日以内（戸籍届出に基づく記載）.
NOTIFICATION_DAYS: dict[MovementKind, int] = {
    MovementKind.MOVE_IN: 14,
    MovementKind.MOVE_IN_FROM_ABROAD: 14,
    MovementKind.RELOCATION: 14,
    MovementKind.HOUSEHOLD_SEPARATION: 14,
    MovementKind.HOUSEHOLD_MERGE: 14,
    MovementKind.HOUSEHOLD_CHANGE: 14,
    MovementKind.HEAD_CHANGE: 14,
    MovementKind.MOVE_OUT: 14,
    MovementKind.MOVE_OUT_ABROAD: 14,
    MovementKind.BIRTH: 14,
    MovementKind.DEATH: 7,
}


def notification_warning(kind: MovementKind, occurred: FuzzyDate, notified: date) -> str | None:
    """A warning (never a refusal) when a 届出 comes after its legal period."""
    days = NOTIFICATION_DAYS.get(kind)
    when = occurred.as_date()
    if days is None or when is None:
        return None
    if notified < when and kind not in (MovementKind.MOVE_OUT, MovementKind.MOVE_OUT_ABROAD):
        return f"届出日（{wareki(notified)}）が異動日より前です"
    late = (notified - when).days - days
    if late > 0:
        return (
            f"届出期間（{MOVEMENT_LABELS[kind]}: {days}日以内）を{late}日過ぎています。"
            "期間経過の理由を確認してください（過料の通知対象となる場合があります）"
        )
    return None


# --- 続柄 ---------------------------------------------------------------------------------------

RELATION_CODES: dict[str, str] = {
    "02": "世帯主",
    "11": "夫",
    "12": "妻",
    "13": "夫（未届）",
    "14": "妻（未届）",
    "20": "子",
    "51": "父",
    "52": "母",
    "71": "兄",
    "74": "弟",
    "81": "姉",
    "84": "妹",
    "96": "縁故者",
    "99": "同居人",
}
_RELATION_BY_LABEL = {v: k for k, v in RELATION_CODES.items()}
_STANDALONE = {"02", "96", "99"}
MAX_RELATION_CHAIN = 4


def relation_label(codes: Sequence[str]) -> str:
    """続柄表記: codes joined with 「の」 from the 世帯主's side (e.g. 子の妻)."""
    return "の".join(RELATION_CODES[c] for c in codes)


def parse_relation(text: str) -> list[str]:
    """Codes of a 続柄 written as text (子の妻 → ['20', '12']); raises ValueError naming why."""
    parts = [p for p in text.strip().split("の") if p]
    if not parts:
        raise ValueError("続柄を入力してください")
    try:
        codes = [_RELATION_BY_LABEL[p] for p in parts]
    except KeyError as exc:
        allowed = "・".join(RELATION_CODES.values())
        raise ValueError(f"続柄「{exc.args[0]}」は使えません（使える続柄: {allowed}）") from None
    problem = relation_problem(codes)
    if problem:
        raise ValueError(problem)
    return codes


def relation_problem(codes: Sequence[str]) -> str | None:
    if not codes:
        return "続柄を入力してください"
    if len(codes) > MAX_RELATION_CHAIN:
        return f"続柄は{MAX_RELATION_CHAIN}代までです（{relation_label(codes)}）"
    if any(c not in RELATION_CODES for c in codes):
        return "続柄コードが正しくありません"
    if len(codes) > 1 and any(c in _STANDALONE for c in codes):
        return "世帯主・縁故者・同居人は「の」でつなげません"
    return None


# --- 世帯 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A current member of a household, as household rules see it."""

    person_id: int
    is_head: bool
    relation: tuple[str, ...]


def household_problems(members: Iterable[Member]) -> list[str]:
    """What is wrong with a household: it must have exactly one 世帯主 (while not empty), whose
    続柄 is 世帯主, and nobody else may be 世帯主."""
    rows = list(members)
    if not rows:
        return []
    problems = []
    heads = [m for m in rows if m.is_head]
    if len(heads) != 1:
        problems.append(f"世帯主は1人でなければなりません（{len(heads)}人）")
    for m in rows:
        if m.is_head and m.relation != ("02",):
            problems.append("世帯主の続柄は「世帯主」です")
        if not m.is_head and "02" in m.relation:
            problems.append("世帯主でない世帯員の続柄に「世帯主」は使えません")
    return problems


# --- 番号と検査数字 -------------------------------------------------------------------------------


def my_number_check_digit(eleven: str) -> int:
    """個人番号の検査用数字 (総務省令第85号 第5条): weights 6,5,4,3,2,7,6,5,4,3,2."""
    if len(eleven) != 11 or not eleven.isdigit():
        raise ValueError("個人番号の上11桁は数字11桁です")
    total = sum(int(d) * w for d, w in zip(eleven, (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def my_number_problem(number: str) -> str | None:
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        return "個人番号は半角数字12桁です"
    if my_number_check_digit(number[:11]) != int(number[11]):
        return "個人番号の検査用数字が正しくありません"
    return None


def resident_code_check_digit(ten: str) -> int:
    """住民票コードの検査数字: weights 5,4,3,2,7,6,5,4,3,2; 11 − (Σ mod 11), ≤1 → 0.

    The 告示 text itself is not at hand (reference marks it unverified): a mismatch is reported
    as a warning by the services, not a refusal.
    """
    if len(ten) != 10 or not ten.isdigit():
        raise ValueError("住民票コードの上10桁は数字10桁です")
    total = sum(int(d) * w for d, w in zip(ten, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def resident_code_problem(code: str) -> str | None:
    if len(code) != 11 or not code.isascii() or not code.isdigit():
        return "住民票コードは半角数字11桁です"
    if resident_code_check_digit(code[:10]) != int(code[10]):
        return "住民票コードの検査数字が一致しません（要確認）"
    return None


def m11_check_digit(base: str) -> int | None:
    """モジュラス11 ウェイト2〜7 (宛名番号・世帯番号): weights 2,3,…,7,2,… from the right.

    Remainder 0 → 0. Remainder 1 would need a two-digit check; the specification does not say,
    so such bases are not used (None): the allocator skips them.
    """
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(base)))
    remainder = total % 11
    if remainder == 0:
        return 0
    if remainder == 1:
        return None
    return 11 - remainder


def with_m11(base: int, width: int) -> str | None:
    """``base`` zero-padded to ``width``-1 digits plus its check digit, or None if unusable."""
    text = str(base).zfill(width - 1)
    check = m11_check_digit(text)
    return None if check is None else text + str(check)


def m11_problem(number: str) -> str | None:
    if not number.isdigit() or len(number) < 2:
        return "番号は数字2桁以上です"
    check = m11_check_digit(number[:-1])
    if check is None or check != int(number[-1]):
        return "検査数字が正しくありません"
    return None
