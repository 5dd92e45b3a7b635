"""The MJ文字情報 table: MJ文字図形名 ↔ characters, 戸籍/住基 codes, readings and the 縮退マップ.

The data is ``moyai/moji/data/mj.tsv.gz``, derived from IPA's MJ文字情報一覧表 (mji.00602) and
MJ縮退マップ (1.2.0) by ``scripts/build-mj-table`` — CC BY-SA 2.1 JP, see ``data/ATTRIBUTION.md``.
It is read lazily, once per process (about half a second), into plain dicts; after that every
lookup is a dict access (well under a microsecond, see ``docs/moji.md``).

Vocabulary:

* *MJ name* — the MJ文字図形名, ``"MJ022335"`` (``"mj022335"``, the IPAmj明朝 glyph name, is
  accepted too).
* *sequence* — how a character is written in text: one code point, optionally followed by a
  variation selector (Moji_Joho IVS ``U+E0100…`` or a standardized variant ``U+FE00``).

Nothing here changes stored text: these functions only read it.
"""

from __future__ import annotations

import gzip
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import NamedTuple

__all__ = [
    "CharUnit",
    "MJChar",
    "Reduction",
    "ReductionTable",
    "all_chars",
    "by_juki",
    "by_koseki",
    "by_mj",
    "by_sequence",
    "chars_of",
    "is_variation_selector",
    "reductions",
]

DATA_FILE = "mj.tsv.gz"
FORMAT = "moyai-mj-table/1"


class ReductionTable(StrEnum):
    """The 表 a 縮退 (reduction) row comes from; the value is the name used in the MJ縮退マップ."""

    JIS_UNIFICATION = "JIS包摂規準UCS統合規則"
    """Same character under the JIS X 0213 包摂規準 / UCS unification rules (髙 → 高)."""
    KOSEKI_PARENT = "戸籍統一文字情報_親字正字"
    """The 親字・正字 of the character's family in 戸籍統一文字情報 (﨑 → 崎)."""
    IMMIGRATION_582_1 = "法務省告示582号別表第四_一"
    """在留カード告示 別表第四 一: 簡体字/繁体字 → 正字 (with 順位)."""
    IMMIGRATION_582_2 = "法務省告示582号別表第四_二"
    """在留カード告示 別表第四 二 (with 順位)."""
    MINJI_2842_VULGAR = "民一2842号通達別表_誤字俗字正字一覧表_俗字"
    """誤字俗字・正字一覧表: 俗字 → 正字."""
    MINJI_2842_OTHER = "民一2842号通達別表_誤字俗字正字一覧表_別字"
    """誤字俗字・正字一覧表: 別字 (a different character) → 正字."""
    MINJI_2842_ERROR = "民一2842号通達別表_誤字俗字正字一覧表_無印"
    """誤字俗字・正字一覧表: unmarked rows (誤字 → 正字)."""
    MINJI_5202 = "民二5202号通知別表_正字俗字等対照表"
    """正字・俗字等対照表."""
    DICTIONARY = "辞書類等による関連字"
    """Related characters according to dictionaries (loose)."""
    READING_SHAPE = "読み字形による類推"
    """Analogy by reading and shape (loosest)."""


class Reduction(NamedTuple):
    """One row of the MJ縮退マップ: an MJ character reduces to a JIS X 0213 / UCS character.

    An immutable named tuple (they are shared, and tens of thousands are built at load time).
    """

    target: str
    """縮退UCS: the target character (one code point)."""
    x0213: str
    """縮退X0213: its JIS X 0213 面-区-点, e.g. ``"1-25-66"``."""
    table: ReductionTable
    """表: which rule produced the row (the *kind* of reduction)."""
    rank: int | None
    """順位 (告示582号 tables only): 1 is the first choice."""
    hops: int | None
    """ホップ数 (親字正字 only): steps from the character to the 親字."""


class MJChar(NamedTuple):
    """One row of the MJ文字情報一覧表 (an MJ文字図形, 「MJ文字」); an immutable named tuple."""

    mj: str
    """MJ文字図形名, e.g. ``"MJ022335"``."""
    ucs: str | None
    """対応するUCS: the code point the glyph belongs to (the IVS base for IVS-only glyphs)."""
    implemented_ucs: str | None
    """実装したUCS: the plain code point that shows this glyph in IPAmj明朝, if any."""
    ivs: str | None
    """実装したMoji_JohoコレクションIVS: base + IVS sequence, if any."""
    svs: str | None
    """実装したSVS: base + standardized variation selector (CJK compatibility ideographs)."""
    koseki: str | None
    """戸籍統一文字番号 (six digits, e.g. ``"349920"``)."""
    juki: str | None
    """住基ネット統一文字コード (``"J+845B"``; its own code space, not always the UCS)."""
    policy: str | None
    """漢字施策: ``"常用漢字"``, ``"人名用漢字"`` or None."""
    x0213: str | None
    """JIS X 0213 面-区-点 the glyph is 包摂 to, e.g. ``"1-19-75"``."""
    strokes: int
    """総画数."""
    readings: tuple[str, ...]
    """読み: 音 in katakana, 訓 in hiragana, as listed in the table."""

    @property
    def text(self) -> str | None:
        """The sequence that shows exactly this glyph, or None for the 19 without any.

        The Moji_Joho IVS comes first: it names the glyph unambiguously and survives NFC.
        """
        return self.ivs or self.implemented_ucs or self.svs

    @property
    def sequences(self) -> tuple[str, ...]:
        """Every sequence that shows this glyph (plain code point, IVS, SVS)."""
        return tuple(s for s in (self.implemented_ucs, self.ivs, self.svs) if s)


@dataclass(frozen=True, slots=True)
class CharUnit:
    """One unit of a stored name: a base character with the selector/marks that follow it."""

    text: str
    """The unit exactly as stored (base + variation selector / combining marks)."""
    base: str
    """The base code point."""
    selector: str
    """The variation selector that followed, or ``""``."""
    mj: str | None
    """The MJ文字図形名 this exact sequence shows, or None when it is not an MJ sequence."""


def is_variation_selector(char: str) -> bool:
    """Whether ``char`` is a variation selector (VS1–16 or an ideographic VS17–256)."""
    cp = ord(char)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


class _Table:
    """The loaded table: every lookup is one dict access."""

    __slots__ = ("by_juki", "by_koseki", "by_mj", "by_sequence", "reductions")

    def __init__(self) -> None:
        self.by_mj: dict[str, MJChar] = {}
        self.by_sequence: dict[str, MJChar] = {}
        self.by_koseki: dict[str, MJChar] = {}
        self.by_juki: dict[str, MJChar] = {}
        self.reductions: dict[str, tuple[Reduction, ...]] = {}


_lock = threading.Lock()
_table: _Table | None = None


def _read_lines() -> Iterator[str]:
    raw = resources.files("moyai.moji").joinpath("data", DATA_FILE).read_bytes()
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    if not lines or lines[0] != f"# {FORMAT}":
        raise RuntimeError(f"{DATA_FILE}: expected format {FORMAT!r}; rebuild it")
    return iter(lines)


def _load() -> _Table:
    table = _Table()
    pending: dict[str, list[Reduction]] = {}
    tables = {member.value: member for member in ReductionTable}
    duplicates: list[tuple[str, str]] = []
    for line in _read_lines():
        kind = line[:1]
        if kind == "C":
            (_, mj, ucs, impl, ivs, svs, koseki, juki, policy, x0213, strokes, readings) = (
                line.split("\t")
            )
            char = MJChar(
                mj=mj,
                ucs=ucs or None,
                implemented_ucs=impl or None,
                ivs=ivs or None,
                svs=svs or None,
                koseki=koseki or None,
                juki=juki or None,
                policy=policy or None,
                x0213=x0213 or None,
                strokes=int(strokes),
                readings=tuple(readings.split()),
            )
            table.by_mj[mj] = char
            for sequence in (impl, ivs, svs):
                if sequence:
                    table.by_sequence[sequence] = char
            if char.koseki:
                table.by_koseki[char.koseki] = char
            if char.juki:
                table.by_juki[char.juki] = char
        elif kind == "R":
            _, mj, target, x0213, name, rank, hops = line.split("\t")
            pending.setdefault(mj, []).append(
                Reduction(
                    target=target,
                    x0213=x0213,
                    table=tables[name],
                    rank=int(rank) if rank else None,
                    hops=int(hops) if hops else None,
                )
            )
        elif kind == "V":
            _, mj, sequence = line.split("\t")
            duplicates.append((mj, sequence))
    for mj, sequence in duplicates:  # registered twice in the IVD; the main row wins
        table.by_sequence.setdefault(sequence, table.by_mj[mj])
    table.reductions = {mj: tuple(rows) for mj, rows in pending.items()}
    return table


def _tables() -> _Table:
    global _table
    if _table is None:
        with _lock:
            if _table is None:
                _table = _load()
    return _table


def by_mj(name: str) -> MJChar | None:
    """The MJ character named ``name`` (``"MJ022335"``; ``"mj022335"`` works too)."""
    table = _tables().by_mj
    return table.get(name) or table.get(name.upper())


def by_sequence(text: str) -> MJChar | None:
    """The MJ character that ``text`` (a code point plus optional variation selector) shows.

    The match is exact: a plain code point gives the glyph IPAmj明朝 shows for it (実装したUCS),
    a Moji_Joho IVS or an SVS gives its own glyph. A selector of another collection (e.g. an
    Adobe-Japan1 IVS such as 葛+E0100) is not an MJ sequence and gives None.
    """
    return _tables().by_sequence.get(text)


def by_koseki(code: str | int) -> MJChar | None:
    """The MJ character with this 戸籍統一文字番号 (``"038140"`` or ``38140``)."""
    key = f"{code:06d}" if isinstance(code, int) else code.strip().zfill(6)
    return _tables().by_koseki.get(key)


def by_juki(code: str) -> MJChar | None:
    """The MJ character with this 住基ネット統一文字コード (``"J+845B"``; ``"845b"`` works too)."""
    key = code.strip().upper()
    if not key.startswith("J+"):
        key = "J+" + key
    return _tables().by_juki.get(key)


def reductions(mj: str | MJChar) -> list[Reduction]:
    """The MJ縮退マップ rows of an MJ character, in table order (empty when it has none)."""
    name = mj.mj if isinstance(mj, MJChar) else mj.upper()
    return list(_tables().reductions.get(name, ()))


def all_chars() -> Iterator[MJChar]:
    """Every MJ character, in MJ文字図形名 order."""
    return iter(_tables().by_mj.values())


def _units(text: str) -> Iterator[tuple[str, str, str]]:
    """(unit, base, selector) for each base character with what attaches to it."""
    start = 0
    n = len(text)
    while start < n:
        end = start + 1
        selector = ""
        while end < n and (
            is_variation_selector(text[end]) or unicodedata.category(text[end]) in ("Mn", "Me")
        ):
            if not selector and is_variation_selector(text[end]):
                selector = text[end]
            end += 1
        yield text[start:end], text[start], selector
        start = end


def chars_of(text: str) -> list[CharUnit]:
    """Split a stored name into units (base + selector) with the MJ文字図形名 each shows.

    A variation selector or combining mark (the 濁点 of a decomposed ガ, say) stays with the
    character before it. ``mj`` is None for units that are not MJ sequences (Latin letters,
    an Adobe-Japan1 IVS, a private-use 外字 …).
    """
    lookup = _tables().by_sequence
    out: list[CharUnit] = []
    for unit, base, selector in _units(text):
        char = lookup.get(unit)
        out.append(CharUnit(unit, base, selector, char.mj if char else None))
    return out
