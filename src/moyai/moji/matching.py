"""名寄せ: how likely two person records are the same person. Pure functions, no Django.

A candidate pair is scored from four pieces of evidence — 氏名, フリガナ, 生年月日 and 住所 — each
compared on derived keys (never on the stored text alone):

* 氏名 through :func:`moyai.moji.rules.name_key` (IVS stripped, 異体字/旧字 folded by the MJ縮退
  マップ, 全角/半角 unified), so 髙橋 and 高橋 agree;
* フリガナ through :func:`moyai.moji.rules.kana_key` (ヴ/ブ, small kana, 長音 folded);
* 生年月日 exactly, with a one-digit slip or a swapped 月/日 recognised as a probable typo, and
  不詳日 compared by year only;
* 住所 by a 町字 key (漢数字 → 数字, 丁目/番地/号 → ``-``, 大字/字 dropped, ヶ/ケ/が unified) that
  tolerates a one-character typo in the 町字 name.

The score is a weighted mean (missing evidence counts as neutral 0.5), then capped by rules that
keep a pair from being called 「同一人」 unless the name keys and an exactly known birth date
agree. :data:`SAME` and :data:`PROBABLE` are the thresholds; see ``docs/moji.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

from moyai.moji.rules import kana_key, name_key

__all__ = [
    "PROBABLE",
    "SAME",
    "Evidence",
    "MatchResult",
    "PersonFacts",
    "Verdict",
    "candidate_keys",
    "match",
    "town_key",
]

SAME = 0.85
"""A score at or above this is 「同一人」: the records may be merged after the usual check."""
PROBABLE = 0.6
"""A score at or above this (and below :data:`SAME`) is 「同一人の可能性」: a person decides."""

WEIGHTS = {"name": 0.35, "kana": 0.2, "birth_date": 0.3, "address": 0.15}
NEUTRAL = 0.5
"""The score of evidence that cannot be compared (missing on one side, 不詳 on both)."""

# Caps: the highest score a pair may reach when …
CAP_BIRTH_DIFFERS = 0.2  # … both birth dates are known and plainly differ (同姓同名の別人)
CAP_NAME_DIFFERS = 0.3  # … neither the name nor the reading is close
CAP_BIRTH_TYPO = 0.75  # … the birth dates differ by what looks like a typo
CAP_UNCONFIRMED = 0.8  # … the name keys differ, or a birth date is missing or 不詳
UNKNOWN_YEAR_SLACK = 10
"""Years a 不詳 birth date (「昭和25年頃」) may be off before the pair counts as different."""


class Verdict(StrEnum):
    """判定."""

    SAME = "same"
    PROBABLE = "probable"
    DIFFERENT = "different"

    @property
    def label(self) -> str:
        return {"same": "同一人", "probable": "同一人の可能性", "different": "別人"}[self.value]


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """The facts of one record that 名寄せ compares, as plain values.

    ``birth_date`` is ``YYYY-MM-DD`` (``FuzzyDate.iso``) or ``""`` when not recorded; with
    ``birth_date_unknown`` (不詳) only its year is trusted. ``address`` is the address as text —
    from the 都道府県, from the 市区町村 or from the 町字 on; ``town_code`` is the 町字コード when
    the source has one.
    """

    name: str
    kana: str = ""
    birth_date: str = ""
    birth_date_unknown: bool = False
    address: str = ""
    town_code: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    """How one field compared: a score in 0..1 (None when it could not be compared) and why."""

    field: str
    score: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The score of a pair (0..1), its verdict and the reasons, field by field."""

    score: float
    verdict: Verdict
    evidence: tuple[Evidence, ...]
    caps: tuple[str, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every reason in Japanese, evidence first, then what capped the score."""
        return tuple(e.reason for e in self.evidence) + self.caps


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


# --- 氏名・フリガナ -----------------------------------------------------------------------------


def _compare_name(a: str, b: str) -> Evidence:
    if not a or not b:
        return Evidence("name", None, "氏名がないため比較できない")
    if a == b:
        return Evidence("name", 1.0, "氏名が一致")
    ka, kb = name_key(a), name_key(b)
    if ka == kb:
        return Evidence("name", 1.0, "氏名が異体字・IVS・全角半角の違いを除いて一致")
    ratio = _ratio(ka, kb)
    return Evidence("name", ratio, f"氏名が異なる（類似度 {ratio:.2f}）")


def _compare_kana(a: str, b: str) -> Evidence:
    if not a.strip() or not b.strip():
        return Evidence("kana", None, "フリガナがないため比較できない")
    ka, kb = kana_key(a), kana_key(b)
    if ka == kb:
        same = a == b
        return Evidence("kana", 1.0, "フリガナが一致" if same else "フリガナが表記ゆれを除いて一致")
    ratio = _ratio(ka, kb)
    return Evidence("kana", ratio, f"フリガナが異なる（類似度 {ratio:.2f}）")


# --- 生年月日 -----------------------------------------------------------------------------------

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _looks_like_typo(a: str, b: str) -> bool:
    """One digit wrong, two neighbouring digits swapped, or 月 and 日 swapped."""
    da, db = a.replace("-", ""), b.replace("-", "")
    diffs = [i for i in range(len(da)) if da[i] != db[i]]
    if len(diffs) == 1:
        return True
    if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
        i = diffs[0]
        if da[i] == db[i + 1] and da[i + 1] == db[i]:
            return True
    ya, ma, dd_a = a.split("-")
    yb, mb, dd_b = b.split("-")
    return ya == yb and ma == dd_b and dd_a == mb


def _compare_birth(a: PersonFacts, b: PersonFacts) -> tuple[Evidence, str | None]:
    """The evidence, and the cap it imposes (if any)."""
    ma, mb = _DATE.match(a.birth_date), _DATE.match(b.birth_date)
    if not ma or not mb:
        ev = Evidence("birth_date", None, "生年月日がないため比較できない")
        return ev, "unconfirmed"
    if a.birth_date_unknown or b.birth_date_unknown:
        ya, yb = int(ma.group(1)), int(mb.group(1))
        if a.birth_date_unknown and b.birth_date_unknown and a.birth_date == b.birth_date:
            ev = Evidence("birth_date", 0.7, "生年月日がともに不詳で、推定日が一致")
        elif ya == yb:
            ev = Evidence("birth_date", 0.7, "生年月日が不詳のため年のみ比較し、一致")
        elif abs(ya - yb) == 1:
            ev = Evidence("birth_date", 0.5, "生年月日が不詳のため年のみ比較し、1年違い")
        elif abs(ya - yb) <= UNKNOWN_YEAR_SLACK:
            ev = Evidence("birth_date", 0.2, "生年月日が不詳のため年のみ比較し、数年違い")
        else:
            ev = Evidence("birth_date", 0.0, "生年月日が不詳のため年のみ比較し、大きく異なる")
            return ev, "differs"
        return ev, "unconfirmed"
    if a.birth_date == b.birth_date:
        return Evidence("birth_date", 1.0, "生年月日が一致"), None
    if _looks_like_typo(a.birth_date, b.birth_date):
        return Evidence("birth_date", 0.6, "生年月日が1字違い（誤記の可能性）"), "typo"
    return Evidence("birth_date", 0.0, "生年月日が異なる"), "differs"


# --- 住所（町字キー） ---------------------------------------------------------------------------

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4}
_KANJI_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMBER = re.compile("[〇零一二三四五六七八九十百千]+(?=丁目|番|号|の|[-−‐―ー]|$)")
_SEPARATORS = re.compile(r"(?<=\d)(?:丁目|番地の?|番の?|号|の|[-−‐―ーｰ])(?=\d)")
_TRAILING = re.compile(r"(?<=\d)(?:丁目|番地|番|号)$")
_VARIANT_KANA = str.maketrans({"ヶ": "ケ", "が": "ケ", "ガ": "ケ", "ヵ": "ケ", "の": "ノ"})


def _kanji_number(text: str) -> str:
    """漢数字 → 数字 for one run: 二十三 → 23, 一〇五 → 105."""
    if not any(c in _KANJI_UNITS for c in text):
        return "".join(str(_KANJI_DIGITS[c]) for c in text)
    total, digit = 0, 0
    for c in text:
        if c in _KANJI_UNITS:
            total += (digit or 1) * _KANJI_UNITS[c]
            digit = 0
        else:
            digit = _KANJI_DIGITS[c]
    return str(total + digit)


def town_key(address: str) -> tuple[str, tuple[str, ...]]:
    """An address as (町字 name key, its numbers).

    「大字東雲二丁目3番地の4」 → ``("東雲", ("2", "3", "4"))``.

    Only 漢数字 that stand before 丁目/番/号/の or a dash become digits, so 八王子 and 三鷹 stay
    as they are. Everything is folded like a name (:func:`name_key`).
    """
    text = name_key(address)
    text = _KANJI_NUMBER.sub(lambda m: _kanji_number(m.group(0)), text)
    text = _SEPARATORS.sub("-", text)
    text = _TRAILING.sub("", text)
    text = text.replace("大字", "").replace("字", "")
    match = re.search(r"\d", text)
    if match is None:
        return text.translate(_VARIANT_KANA), ()
    name, rest = text[: match.start()], text[match.start() :]
    numbers = tuple(re.findall(r"\d+", rest))
    return name.translate(_VARIANT_KANA), tuple(n.lstrip("0") or "0" for n in numbers)


_MUNICIPALITY_END = ("都", "道", "府", "県", "市", "区", "町", "村", "郡")


def _same_town(a: str, b: str) -> bool:
    """Equal, or the longer is the shorter written from the 都道府県 or 市区町村 on."""
    if not a or not b:
        return False
    short, long_ = sorted((a, b), key=len)
    if short == long_:
        return True
    return long_.endswith(short) and long_[: -len(short)].endswith(_MUNICIPALITY_END)


def _one_edit_apart(a: str, b: str) -> bool:
    """Exactly one character replaced, inserted or deleted."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = sorted((a, b), key=len)
    i = next((i for i, (x, y) in enumerate(zip(short, long_, strict=False)) if x != y), len(short))
    return short[i:] == long_[i + 1 :]


def _town_typo(a: str, b: str) -> bool:
    """One character wrong, missing or extra in 町字 names of three characters or more."""
    short, long_ = sorted((a, b), key=len)
    if len(short) < 3:
        return False
    if _one_edit_apart(short, long_):
        return True
    # One side written from the 都道府県 or 市区町村 on: compare the 町字 at its end.
    return any(
        _one_edit_apart(short, long_[-n:]) for n in (len(short) - 1, len(short), len(short) + 1)
    )


def _compare_address(a: PersonFacts, b: PersonFacts) -> Evidence:
    if not a.address.strip() or not b.address.strip():
        return Evidence("address", None, "住所がないため比較できない")
    (town_a, nums_a), (town_b, nums_b) = town_key(a.address), town_key(b.address)
    same_numbers = nums_a == nums_b
    numbers = ("、番地が一致" if nums_a else "") if same_numbers else "、番地が異なる"
    if a.town_code and a.town_code == b.town_code:
        return Evidence("address", 1.0 if same_numbers else 0.6, "町字コードが一致" + numbers)
    if _same_town(town_a, town_b):
        return Evidence("address", 1.0 if same_numbers else 0.6, "町字が一致" + numbers)
    if _town_typo(town_a, town_b):
        reason = "町字が1字違い（誤記の可能性）" + numbers
        return Evidence("address", 0.85 if same_numbers else 0.5, reason)
    return Evidence("address", 0.25, "住所が異なる（転居の可能性）")


# --- 判定 ---------------------------------------------------------------------------------------


def match(a: PersonFacts, b: PersonFacts) -> MatchResult:
    """Score how likely ``a`` and ``b`` are the same person (symmetric in ``a`` and ``b``)."""
    name = _compare_name(a.name, b.name)
    kana = _compare_kana(a.kana, b.kana)
    birth, birth_cap = _compare_birth(a, b)
    address = _compare_address(a, b)
    evidence = (name, kana, birth, address)

    score = sum(
        WEIGHTS[e.field] * (NEUTRAL if e.score is None else e.score) for e in evidence
    ) / sum(WEIGHTS.values())

    caps: list[tuple[float, str]] = []
    if birth_cap == "differs":
        caps.append((CAP_BIRTH_DIFFERS, "生年月日が異なるため別人とする"))
    elif birth_cap == "typo":
        caps.append((CAP_BIRTH_TYPO, "生年月日が一致しないため「同一人」とはしない"))
    elif birth_cap == "unconfirmed":
        caps.append((CAP_UNCONFIRMED, "生年月日で確認できないため「同一人」とはしない"))
    name_close = name.score is not None and name.score >= 0.5
    kana_close = kana.score is not None and kana.score >= 0.75
    if name.score is None and kana.score is None:
        caps.append((CAP_NAME_DIFFERS, "氏名もフリガナもないため確認できない"))
    elif not name_close and not kana_close:
        caps.append((CAP_NAME_DIFFERS, "氏名もフリガナも近くないため別人とする"))
    elif name.score != 1.0:
        caps.append((CAP_UNCONFIRMED, "氏名が一致しないため「同一人」とはしない"))
    cap_reasons: list[str] = []
    for limit, reason in sorted(caps):
        if score > limit:
            score = limit
            cap_reasons.append(reason)

    score = round(score, 4)
    if score >= SAME:
        verdict = Verdict.SAME
    elif score >= PROBABLE:
        verdict = Verdict.PROBABLE
    else:
        verdict = Verdict.DIFFERENT
    return MatchResult(score, verdict, evidence, tuple(cap_reasons))


def candidate_keys(person: PersonFacts) -> frozenset[str]:
    """Blocking keys: two records are worth scoring only if they share one of these.

    ``n:`` name key + birth year, ``k:`` reading key + birth date, ``d:`` name key + reading
    key. Comparing every pair of a large import is quadratic; grouping by these keys is not.
    """
    keys: set[str] = set()
    name = name_key(person.name) if person.name else ""
    kana = kana_key(person.kana) if person.kana.strip() else ""
    year = person.birth_date[:4]
    if name:
        keys.add(f"n:{name}:{year}")
    if kana and person.birth_date:
        keys.add(f"k:{kana}:{person.birth_date}")
    if name and kana:
        keys.add(f"d:{name}:{kana}")
    return frozenset(keys)
