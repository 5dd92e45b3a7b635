"""Search keys for names: fold what people treat as "the same name" without touching storage.

Names are stored exactly as written (IVS and all). For search and 名寄せ we derive keys:

* :func:`name_key` — kanji name folded: variation selectors (IVS/SVS) removed, compatibility
  ideographs and full/half width unified (NFKC, on the key only), common 異体字/旧字 folded to
  their 標準字体 (髙→高, 﨑→崎, 邊/邉→辺 …) and spaces removed.
* :func:`kana_key` — reading folded: hiragana → katakana, half-width → full-width, small kana →
  large, ヴ行 → バ行, ヂ/ヅ → ジ/ズ, ヲ → オ, 長音 and spaces removed.

The 異体字 table here is a small built-in set of the folds most often met at a 窓口; the MJ
縮退マップ (moyai.moji's MJ table) extends it when loaded.
"""

from __future__ import annotations

import re
import unicodedata

_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_SPACES = re.compile(r"[\s\u3000・･]+")

# 異体字・旧字 → 標準的な字形 (fold direction only; never applied to stored names)
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
    "籠": "篭",
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
_ITAIJI_TABLE = str.maketrans(_ITAIJI)

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


def name_key(name: str) -> str:
    """The folded search key of a kanji (or roman) name."""
    text = strip_variation_selectors(name)
    text = unicodedata.normalize("NFKC", text)
    text = _SPACES.sub("", text)
    return text.translate(_ITAIJI_TABLE).upper()


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
