import pytest
from hypothesis import given
from hypothesis import strategies as st

from moyai.moji.mj import MJChar, Reduction, ReductionTable, all_chars, by_sequence
from moyai.moji.rules import (
    NAME_KEY_FALLBACK_TABLES,
    choose_reduction,
    derive_name_fold,
    is_katakana,
    kana_key,
    name_key,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("髙橋", "高橋"),
        ("山﨑", "山崎"),
        ("渡邊", "渡辺"),
        ("渡邉", "渡辺"),
        ("齋藤", "斎藤"),
        ("葛\U000e0100飾", "葛飾"),  # IVS stripped from the key only
        ("辻\U000e0100", "辻"),
        ("\uf929", "朗"),  # CJK compatibility ideograph → unified (on the key only)
        ("𠮷田", "吉田"),
        ("山田　太郎", "山田太郎"),
        ("ＡＢＣ", "ABC"),
    ],
)
def test_name_keys_fold_variants(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("たかはし", "タカハシ"),
        ("ﾀｶﾊｼ", "タカハシ"),
        ("ヴィクトリア", "ビクトリア"),
        ("ジョーンズ", "ジョンズ"),
        ("キャシー", "キヤシ"),
        ("ヂ", "ジ"),
        ("スズキ　イチロウ", "スズキイチロウ"),
    ],
)
def test_kana_keys_fold_variants(a: str, b: str) -> None:
    assert kana_key(a) == kana_key(b)


def test_distinct_names_stay_distinct() -> None:
    assert name_key("高橋") != name_key("高田")
    assert kana_key("サトウ") != kana_key("サイトウ")


def test_is_katakana() -> None:
    assert is_katakana("ヤマダ　タロウ")
    assert not is_katakana("やまだ")
    assert not is_katakana("ﾔﾏﾀﾞ")


# --- folding through the MJ縮退マップ ------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("渡邉\U000e0116", "渡辺"),  # an IVS-only variant of 邉 (MJ058866)
        ("渡邊", "渡邉"),
        ("龍之介", "竜之介"),  # 親字正字 gives 竜 and 龍: the 常用漢字 wins
        ("澤田", "沢田"),
        ("櫻井", "桜井"),
        ("濵田", "浜田"),
        ("峯岸", "峰岸"),
        ("舘野", "館野"),
        ("卷子", "巻子"),
        ("曾根", "曽根"),
        ("眞理", "真理"),
        ("鷗外", "鴎外"),  # the map says 鴎→鷗, the built-in table 鷗→鴎: both land together
        ("山\ufa11\U000e0103", "山崎"),  # 﨑 with its second Moji_Joho IVS (MJ030197)
        ("\uf91d", "欄"),  # compatibility ideograph (stored as is; folded on the key)
        ("欄\ufe00", "欄"),  # its standardized variant
        ("\ufa10", "塚"),
        ("ﾔﾏﾀﾞ", "ヤマダ"),
        ("Ｓｍｉｔｈ　Ｊｏｈｎ", "smith john"),
    ],
)
def test_name_keys_fold_through_the_mj_map(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("斎藤", "斉藤"),  # two surnames, two 常用漢字
        ("宮崎", "宮埼"),
        ("梅田", "某田"),  # 槑 lists both as its 親字; 常用漢字 never fold into each other
        ("佐藤", "佐籐"),
        ("一郎", "一朗"),
        ("鈴木", "鈴本"),
    ],
)
def test_name_keys_keep_different_characters_apart(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_the_stored_name_is_untouched() -> None:
    stored = "葛\U000e0102飾　\ufa11"
    key = name_key(stored)
    assert key == "葛飾崎"
    assert stored == "葛\U000e0102飾　\ufa11"


@pytest.mark.parametrize(
    ("outside_jis", "written_in_jis"),
    [
        ("㐧", "第"),  # 告示582号別表第四 一, 順位 1
        ("㐱", "爾"),  # 告示582号 gives 爾 (順位 1) and 尓 (順位 2)
        ("𣆥", "晃"),  # 読み字形による類推
    ],
)
def test_characters_outside_jis_fold_to_what_a_jis_system_writes(
    outside_jis: str, written_in_jis: str
) -> None:
    char = by_sequence(outside_jis)
    assert char is not None and char.x0213 is None
    assert name_key(outside_jis) == name_key(written_in_jis)


def test_jis_characters_do_not_follow_the_loose_tables() -> None:
    # 暨 (JIS X 0213 1-58-90) → 届 only in 告示582号別表第四: keys keep them apart.
    assert name_key("暨") != name_key("届")


def test_no_two_joyo_kanji_share_a_key() -> None:
    joyo = [c.implemented_ucs for c in all_chars() if c.policy == "常用漢字"]
    assert len(joyo) == 2136
    assert len({name_key(c) for c in joyo if c}) == 2136
    assert all(name_key(c) == c for c in joyo if c)  # 常用漢字 are their own key


def test_name_key_is_idempotent_over_the_whole_table() -> None:
    for char in all_chars():
        for sequence in char.sequences:
            key = name_key(sequence)
            assert name_key(key) == key, char.mj


@given(st.text(alphabet="髙高﨑崎邉邊辺澤沢葛飾山田ｱｲｳあいう１Ａa　 \ufe00\U000e0100\U000e0102"))
def test_name_key_is_idempotent(text: str) -> None:
    assert name_key(name_key(text)) == name_key(text)


def _reduction(target: str, table: ReductionTable, rank: int | None = None) -> Reduction:
    return Reduction(target, "1-01-01", table, rank, None)


def test_choose_reduction_prefers_stricter_table_then_rank_then_joyo() -> None:
    policy = {"辺": "常用漢字", "邊": None, "竜": "常用漢字"}.get
    koseki = ReductionTable.KOSEKI_PARENT
    rows = [_reduction("邊", koseki), _reduction("辺", koseki)]
    assert choose_reduction("邉", rows, policy) == "辺"  # same table: the 常用漢字
    rows = [_reduction("辺", ReductionTable.MINJI_5202), _reduction("邊", koseki)]
    assert choose_reduction("邉", rows, policy) == "邊"  # the stricter table first
    rows = [_reduction("辺", ReductionTable.DICTIONARY)]
    assert choose_reduction("邉", rows, policy) == "邉"  # loose tables are not followed …
    rows = [_reduction("吉", ReductionTable.IMMIGRATION_582_1, 1)]
    assert choose_reduction("𠮷", rows, policy) == "𠮷"  # … nor 告示582号 (在留カード) …
    fallback = NAME_KEY_FALLBACK_TABLES  # … unless asked for (characters outside JIS X 0213)
    assert choose_reduction("𠮷", rows, policy, fallback) == "吉"
    rows = [
        _reduction("尓", ReductionTable.IMMIGRATION_582_1, 2),
        _reduction("爾", ReductionTable.IMMIGRATION_582_1, 1),
    ]
    assert choose_reduction("㐱", rows, policy, fallback) == "爾"  # 順位 1 first
    rows = [_reduction("邉", ReductionTable.JIS_UNIFICATION)]
    assert choose_reduction("邉", rows, policy) == "邉"  # reduces to itself


def test_derive_name_fold_follows_chains_and_settles_circles() -> None:
    def char(ucs: str, policy: str | None = None) -> MJChar:
        return MJChar("MJ" + str(ord(ucs)), ucs, ucs, None, None, None, None, policy, None, 1, ())

    koseki = ReductionTable.KOSEKI_PARENT
    rows = {
        "甲": [_reduction("乙", koseki)],  # 甲 → 乙 → 丙: 甲 ends at 丙
        "乙": [_reduction("丙", koseki)],
        "丁": [_reduction("戊", koseki)],  # 丁 ⇄ 戊: both end at the preferred one
        "戊": [_reduction("丁", koseki)],
        "己": [_reduction("甲", koseki)],
    }
    chars = [char(c) for c in "甲乙丙丁戊己"]
    fold = derive_name_fold(chars, lambda c: rows.get(c.ucs or "", []))
    assert "甲乙丙丁戊己".translate(fold) == "丙丙丙丁丁丙"
