import pytest

from moyai.moji.rules import is_katakana, kana_key, name_key


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
