"""Search keys for names: fold what people treat as "the same name" without touching storage.

Names are stored exactly as written (IVS and all). For search and 名寄せ we derive keys:

* :func:`name_key` — kanji name folded: variation selectors (IVS/SVS) removed, compatibility
  ideographs and full/half width unified (NFKC, on the key only), spaces removed, and every
  異体字/旧字 folded to one representative through the MJ縮退マップ (髙→高, 﨑→崎, 邊/邉→辺,
  𠮷→吉 …) plus a small built-in table for common pairs the map does not join (槇→槙 …).
* :func:`kana_key` — reading folded: hiragana → katakana, half-width → full-width, small kana →
  large, ヴ行 → バ行, ヂ/ヅ → ジ/ズ, ヲ → オ, 長音 and spaces removed.

How the 縮退 target is chosen is :func:`derive_name_fold`; ``docs/moji.md`` explains why. The MJ
table is immutable package data read once through :mod:`moyai.moji.mj`; the functions here stay
deterministic and free of Django.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import cache

from moyai.moji.mj import MJChar, Reduction, ReductionTable, all_chars, reductions

_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_SPACES = re.compile(r"[\s\u3000・･]+")

# 異体字・旧字 → 標準的な字形 (fold direction only; never applied to stored names).
# Most pairs are also in the MJ縮退マップ; those it does not join (槇/槙, 藪/薮, 篭/籠,
# 曻/昇, 晄/晃, 巖/巌, 鷗/鴎, 遙/遥, 祿/禄) stay because 窓口 practice treats them as the
# same name. Where this table and the map disagree on the direction (鴎→鷗 in the map),
# this table wins.
_ITAIJI = {
    "髙": "高",
    "﨑": "崎",
    "嵜": "崎",
    "邊": "辺",
    "邉": "辺",
    "齋": "斎",
    "齊": "斉",
    "澤": "沢",
    "濱": "浜",
    "濵": "浜",
    "廣": "広",
    "國": "国",
    "櫻": "桜",
    "實": "実",
    "眞": "真",
    "惠": "恵",
    "德": "徳",
    "龍": "竜",
    "瀨": "瀬",
    "冨": "富",
    "嶋": "島",
    "嶌": "島",
    "槇": "槙",
    "桒": "桑",
    "埜": "野",
    "藪": "薮",
    "篭": "籠",
    "曻": "昇",
    "晄": "晃",
    "顯": "顕",
    "彌": "弥",
    "會": "会",
    "榮": "栄",
    "圓": "円",
    "淺": "浅",
    "與": "与",
    "萬": "万",
    "寳": "宝",
    "寶": "宝",
    "壽": "寿",
    "樂": "楽",
    "絲": "糸",
    "亞": "亜",
    "惡": "悪",
    "藏": "蔵",
    "條": "条",
    "傳": "伝",
    "淸": "清",
    "靜": "静",
    "莊": "荘",
    "驛": "駅",
    "來": "来",
    "鐵": "鉄",
    "氣": "気",
    "豐": "豊",
    "禮": "礼",
    "關": "関",
    "戶": "戸",
    "户": "戸",
    "黑": "黒",
    "增": "増",
    "團": "団",
    "將": "将",
    "兒": "児",
    "瑤": "瑶",
    "昻": "昂",
    "𠮷": "吉",
    "𡈽": "土",
    "巖": "巌",
    "鷗": "鴎",
    "遙": "遥",
    "祿": "禄",
}

_SMALL_TO_LARGE = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_VOICED_FOLD = {
    "ヴァ": "バ",
    "ヴィ": "ビ",
    "ヴェ": "ベ",
    "ヴォ": "ボ",
    "ヴ": "ブ",
    "ヂ": "ジ",
    "ヅ": "ズ",
    "ヲ": "オ",
}


def strip_variation_selectors(text: str) -> str:
    return _VARIATION_SELECTORS.sub("", text)


# The 縮退マップ tables that name keys follow for every character, strictest first.
NAME_KEY_TABLES: tuple[ReductionTable, ...] = (
    ReductionTable.JIS_UNIFICATION,
    ReductionTable.KOSEKI_PARENT,
    ReductionTable.MINJI_5202,
    ReductionTable.MINJI_2842_VULGAR,
    ReductionTable.MINJI_2842_ERROR,
)
# The tables followed only for a character outside JIS X 0213 that the tables above leave alone:
# a JIS-only system cannot write it and will have put one of these in its place. They are not
# followed for JIS characters: 告示582号別表第四 (簡体字/繁体字 → 正字 for 在留カード) also maps
# Japanese characters to unrelated ones (暨 → 届, 庻 → 遮), 民一2842号 別字 names a different real
# character, and 辞書類等 / 読み字形 are loose by design.
NAME_KEY_FALLBACK_TABLES: tuple[ReductionTable, ...] = (
    ReductionTable.IMMIGRATION_582_1,
    ReductionTable.IMMIGRATION_582_2,
    ReductionTable.DICTIONARY,
    ReductionTable.MINJI_2842_OTHER,
    ReductionTable.READING_SHAPE,
)
_POLICY_ORDER = {"常用漢字": 0, "人名用漢字": 1}
JOYO = "常用漢字"


def _x0213_order(x0213: str | None) -> tuple[int, int, int]:
    """JIS X 0213 面-区-点 as numbers: plane 1 (and within it 第1水準, rows 16–47) first."""
    if not x0213:
        return (9, 99, 99)
    plane, row, cell = x0213.split("-")
    return (int(plane), int(row), int(cell))


def choose_reduction(
    source: str,
    rows: Sequence[Reduction],
    policy_of: Callable[[str], str | None],
    tables: Sequence[ReductionTable] = NAME_KEY_TABLES,
) -> str:
    """The one character ``source`` folds to for name keys, from its 縮退マップ rows.

    Only rows of ``tables`` that lead elsewhere count. When several remain (the map leaves the
    choice to the system using it), the first of: the earlier table in ``tables``; the lower
    順位 / ホップ数; a 常用漢字 before a 人名用漢字 before any other; the lower JIS X 0213 面-区-点
    (第1水準 first); the lower code point. So 邉 (親字正字 辺 and 邊) folds to 辺, and 龍 (竜 and
    龍) to 竜. Returns ``source`` when nothing applies.
    """
    order = {table: i for i, table in enumerate(tables)}
    best: tuple[tuple[int, int, int, int, tuple[int, int, int], int], str] | None = None
    for row in rows:
        target = unicodedata.normalize("NFKC", row.target)
        if row.table not in order or target == source:
            continue
        rank = (
            order[row.table],
            row.rank or 0,
            row.hops or 0,
            _POLICY_ORDER.get(policy_of(target) or "", 2),
            _x0213_order(row.x0213),
            ord(target),
        )
        if best is None or rank < best[0]:
            best = (rank, target)
    return source if best is None else best[1]


def derive_name_fold(
    chars: Iterable[MJChar],
    reductions_of: Callable[[MJChar], Sequence[Reduction]],
) -> dict[int, str]:
    """The character fold for name keys: code point → representative (a ``str.translate`` table).

    One step per character: the built-in :data:`_ITAIJI` table if it names the character; else
    nothing for a 常用漢字 or a target of that table (they are representatives); else
    :func:`choose_reduction` over :data:`NAME_KEY_TABLES`, and for a character outside JIS X 0213
    that those leave alone, over :data:`NAME_KEY_FALLBACK_TABLES`. Steps are then followed to
    their end, so 邊 → 辺 and 邉 → 辺 meet; should steps ever run in a circle, its members all
    fold to the one a 常用 / 人名用 / lowest JIS code favours. Only characters that change are in
    the result.
    """
    mj_chars = [c for c in chars if c.implemented_ucs]
    policy = {c.implemented_ucs: c.policy for c in mj_chars if c.implemented_ucs}
    representatives = set(_ITAIJI.values())
    step: dict[str, str] = {}
    for char in mj_chars:
        source = char.implemented_ucs
        assert source is not None
        if source in _ITAIJI or source in representatives or char.policy == JOYO:
            continue
        rows = reductions_of(char)
        target = choose_reduction(source, rows, policy.get)
        if target == source and char.x0213 is None:
            target = choose_reduction(source, rows, policy.get, NAME_KEY_FALLBACK_TABLES)
        if target != source:
            step[source] = target
    step.update(_ITAIJI)
    x0213 = {c.implemented_ucs: c.x0213 for c in mj_chars}

    def preference(ch: str) -> tuple[int, tuple[int, int, int], int]:
        return (_POLICY_ORDER.get(policy.get(ch) or "", 2), _x0213_order(x0213.get(ch)), ord(ch))

    final: dict[str, str] = {}
    for start in step:
        path: list[str] = []
        seen: set[str] = set()
        ch = start
        while ch in step and ch not in final and ch not in seen:
            seen.add(ch)
            path.append(ch)
            ch = step[ch]
        if ch in final:
            end = final[ch]
        elif ch in seen:  # a circle: fold all of it to its preferred member
            circle = path[path.index(ch) :]
            end = min(circle, key=preference)
        else:
            end = ch
        for member in path:
            final[member] = end
    return {ord(src): dst for src, dst in final.items() if dst != src}


@cache
def _name_fold() -> dict[int, str]:
    return derive_name_fold(all_chars(), reductions)


def name_key(name: str) -> str:
    """The folded search key of a kanji (or roman) name; the stored name is never changed."""
    text = strip_variation_selectors(name)
    text = unicodedata.normalize("NFKC", text)
    text = _SPACES.sub("", text)
    return text.translate(_name_fold()).upper()


def to_katakana(text: str) -> str:
    """Hiragana → katakana, half-width kana → full-width (NFKC keeps the voicing marks)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)


def kana_key(reading: str) -> str:
    """The folded search key of a reading (フリガナ)."""
    text = _SPACES.sub("", to_katakana(reading))
    for src, dst in _VOICED_FOLD.items():
        text = text.replace(src, dst)
    text = text.translate(_SMALL_TO_LARGE)
    return text.replace("ー", "").replace("-", "")


_KATAKANA = re.compile(r"^[\u30a1-\u30fa\u30fc\u30fd\u30fe\s\u3000・]+$")


def is_katakana(text: str) -> bool:
    """Whether a フリガナ is written in full-width katakana (with spaces and ・ allowed)."""
    return bool(_KATAKANA.match(text))
