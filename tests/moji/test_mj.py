"""The MJ character table: lookups both ways, codes, readings, 縮退 and the committed data file.

Expected values were read from the source (mojidata 1.8.1 moji.db, i.e. mji.00602 and
MJShrinkMap 1.2.0), not invented. No network: only the committed data file is used.
"""

import gzip
import hashlib
import re
import unicodedata
from importlib import resources

import pytest

from moyai.moji import mj
from moyai.moji.mj import CharUnit, Reduction, ReductionTable

IVS = {n: chr(0xE0100 + n) for n in range(16)}  # IVS[2] is U+E0102 (VS19)


def test_katsu_with_ivs_is_the_katsushika_glyph() -> None:
    char = mj.by_sequence("葛" + IVS[2])
    assert char is not None
    assert char.mj == "MJ022335"
    assert char.ucs == "葛"
    assert char.implemented_ucs is None  # reachable only through its IVS
    assert char.ivs == "葛\U000e0102"
    assert char.text == "葛\U000e0102"
    assert char.koseki == "349920"
    assert char.juki == "J+845B"
    assert char.x0213 == "1-19-75"
    assert char.strokes == 11
    assert char.readings == ("カツ", "カチ", "くず", "つづら", "かずら")


def test_plain_katsu_is_a_different_mj_character() -> None:
    char = mj.by_sequence("葛")
    assert char is not None
    assert char.mj == "MJ022336"
    assert char.ivs == "葛\U000e0103"  # the default glyph is also registered as an IVS
    assert mj.by_sequence("葛\U000e0103") == char
    assert (char.koseki, char.juki, char.policy) == ("352760", "J+B9D5", "常用漢字")


def test_adobe_japan1_ivs_is_not_an_mj_sequence() -> None:
    assert mj.by_sequence("葛\U000e0100") is None


def test_hashigo_taka_and_its_reduction_to_taka() -> None:
    char = mj.by_sequence("髙")
    assert char is not None
    assert (char.mj, char.koseki, char.juki) == ("MJ028902", "513280", "J+9AD9")
    assert mj.reductions(char) == [
        Reduction("高", "1-25-66", ReductionTable.JIS_UNIFICATION, None, None),
        Reduction("高", "1-25-66", ReductionTable.KOSEKI_PARENT, None, 1),
    ]
    assert mj.reductions("MJ028902") == mj.reductions(char)
    assert mj.by_sequence("高").mj == "MJ028901"  # type: ignore[union-attr]


def test_tsuchi_yoshi() -> None:
    char = mj.by_sequence("𠮷")
    assert char is not None
    assert (char.mj, char.koseki, char.juki) == ("MJ032129", "038140", "J+AEAC")
    targets = {(r.target, r.table, r.rank, r.hops) for r in mj.reductions(char)}
    assert targets == {
        ("吉", ReductionTable.JIS_UNIFICATION, None, None),
        ("吉", ReductionTable.IMMIGRATION_582_1, 1, None),
        ("吉", ReductionTable.KOSEKI_PARENT, None, 1),
    }


def test_tatsusaki_and_its_ivs() -> None:
    plain = mj.by_sequence("\ufa11")  # 﨑, a CJK compatibility code point that NFC keeps
    assert plain is not None
    assert plain.mj == "MJ030196"
    assert mj.by_sequence("\ufa11" + IVS[2]) == plain
    other = mj.by_sequence("\ufa11" + IVS[3])
    assert other is not None
    assert (other.mj, other.koseki, other.juki) == ("MJ030197", None, "J+B07A")
    assert {(r.target, r.table) for r in mj.reductions(plain)} == {
        ("\ufa11", ReductionTable.JIS_UNIFICATION),
        ("崎", ReductionTable.KOSEKI_PARENT),
    }
    assert mj.by_sequence("崎").mj == "MJ010541"  # type: ignore[union-attr]


def test_compatibility_ideograph_reachable_by_code_point_svs_and_ivs() -> None:
    char = mj.by_mj("MJ030183")
    assert char is not None
    assert char.implemented_ucs == "\uf91d"
    assert char.svs == "\u6b04\ufe00"
    assert char.ivs == "\u6b04\U000e0103"
    for sequence in ("\uf91d", "\u6b04\ufe00", "\u6b04\U000e0103"):
        assert mj.by_sequence(sequence) == char
    # NFC would rewrite the stored code point (which is why names are never normalised) …
    assert unicodedata.normalize("NFC", "\uf91d") == "\u6b04"
    # … while the SVS and IVS forms survive it.
    assert unicodedata.normalize("NFC", char.svs) == char.svs
    assert unicodedata.normalize("NFC", char.ivs) == char.ivs


def test_watanabe_nabe_has_two_koseki_parents() -> None:
    targets = [(r.target, r.table) for r in mj.reductions("MJ026190")]  # 邉
    assert ("辺", ReductionTable.KOSEKI_PARENT) in targets
    assert ("邊", ReductionTable.KOSEKI_PARENT) in targets


def test_duplicate_ivd_sequence_maps_to_its_glyph() -> None:
    # 博+E010A is registered in the IVD as a second sequence of MJ059399 (main: U+2B9E4+E0100).
    assert mj.by_sequence("\u535a\U000e010a").mj == "MJ059399"  # type: ignore[union-attr]
    assert mj.by_mj("MJ059399").ivs == "\U0002b9e4\U000e0100"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mj_name", "koseki", "juki"),
    [
        ("MJ022335", "349920", "J+845B"),
        ("MJ028902", "513280", "J+9AD9"),
        ("MJ032129", "038140", "J+AEAC"),
        ("MJ030196", "094190", "J+FA11"),
        ("MJ026190", "445000", "J+9089"),
        ("MJ030183", "180580", "J+F91D"),
    ],
)
def test_koseki_and_juki_codes_round_trip(mj_name: str, koseki: str, juki: str) -> None:
    char = mj.by_mj(mj_name)
    assert char is not None
    assert (char.koseki, char.juki) == (koseki, juki)
    assert mj.by_koseki(koseki) == char
    assert mj.by_koseki(int(koseki)) == char  # leading zeros restored
    assert mj.by_juki(juki) == char
    assert mj.by_juki(juki.lower()) == char
    assert mj.by_juki(juki.removeprefix("J+")) == char


def test_unknown_codes_and_names() -> None:
    assert mj.by_mj("MJ999999") is None
    assert mj.by_mj("mj022335").mj == "MJ022335"  # type: ignore[union-attr]  # IPAmj glyph name
    assert mj.by_koseki("999999") is None
    assert mj.by_juki("J+0000") is None
    assert mj.by_sequence("A") is None
    assert mj.reductions("MJ999999") == []


def test_table_size_and_glyphs_without_any_sequence() -> None:
    chars = list(mj.all_chars())
    assert len(chars) == 58862
    assert chars[0].mj == "MJ000001"
    assert [c.mj for c in chars] == sorted(c.mj for c in chars)
    no_text = [c for c in chars if c.text is None]
    assert len(no_text) == 19  # MJ037229, MJ040579, … have no UCS at all
    assert mj.by_mj("MJ037229") in no_text


def test_every_sequence_leads_back_to_its_character() -> None:
    for char in mj.all_chars():
        for sequence in char.sequences:
            assert mj.by_sequence(sequence) == char


def test_chars_of_splits_a_stored_name_into_units() -> None:
    name = "渡邉\U000e0116 葛\U000e0102飾ｶﾞ"
    assert mj.chars_of(name) == [
        CharUnit("渡", "渡", "", "MJ015547"),
        CharUnit("邉\U000e0116", "邉", "\U000e0116", "MJ058866"),
        CharUnit(" ", " ", "", None),
        CharUnit("葛\U000e0102", "葛", "\U000e0102", "MJ022335"),
        CharUnit("飾", "飾", "", mj.by_sequence("飾").mj),  # type: ignore[union-attr]
        CharUnit("ｶ", "ｶ", "", None),
        CharUnit("ﾞ", "ﾞ", "", None),
    ]
    assert "".join(u.text for u in mj.chars_of(name)) == name  # nothing lost


def test_chars_of_keeps_combining_marks_and_stray_selectors() -> None:
    units = mj.chars_of("\U000e0100葛か\u309a\ue000")
    assert [u.text for u in units] == ["\U000e0100", "葛", "か\u309a", "\ue000"]
    assert [u.mj for u in units] == [None, "MJ022336", None, None]  # 外字 (PUA) is never MJ


def _attribution() -> str:
    return resources.files("moyai.moji").joinpath("data", "ATTRIBUTION.md").read_text("utf-8")


def test_data_file_matches_its_attribution() -> None:
    raw = resources.files("moyai.moji").joinpath("data", mj.DATA_FILE).read_bytes()
    text = _attribution()
    recorded = re.search(r"\| SHA-256 \| `([0-9a-f]{64})` \|", text)
    recorded_text = re.search(r"\| SHA-256 of the uncompressed text \| `([0-9a-f]{64})` \|", text)
    assert recorded and recorded_text
    assert hashlib.sha256(gzip.decompress(raw)).hexdigest() == recorded_text.group(1)
    assert hashlib.sha256(raw).hexdigest() == recorded.group(1)
    assert len(raw) < 3_000_000


def test_attribution_names_source_licence_and_checksum() -> None:
    text = _attribution()
    for needle in (
        "@mandel59/mojidata@1.8.1",
        "CC BY-SA 2.1 JP",
        "IPA",
        "d51b41cc0164211090757eb2f5e74cd343a1cae82061b14082c4f436891b87b4",
        "mji.00602",
        "MJShrinkMap",
    ):
        assert needle in text
