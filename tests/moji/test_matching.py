"""名寄せ matcher: realistic pairs, each with the verdict a 窓口 clerk would expect."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moyai.moji.matching import (
    PROBABLE,
    SAME,
    PersonFacts,
    Verdict,
    candidate_keys,
    match,
    town_key,
)

P = PersonFacts

CASES = [
    pytest.param(
        P("髙橋 一郎", "タカハシ イチロウ", "1980-04-01", address="千代田区霞が関一丁目2番3号"),
        P("高橋一郎", "たかはしいちろう", "1980-04-01", address="東京都千代田区霞ケ関1-2-3"),
        Verdict.SAME,
        id="髙橋/高橋, same birth date",
    ),
    pytest.param(
        P("高橋一郎", "タカハシイチロウ", "1980-04-01", address="中央一丁目1番1号"),
        P("高橋一郎", "タカハシイチロウ", "1975-11-20", address="中央一丁目1番1号"),
        Verdict.DIFFERENT,
        id="同姓同名, different birth dates",
    ),
    pytest.param(
        P("山田ヴィクトル", "ヤマダ ヴィクトル", "1990-01-02"),
        P("山田ヴィクトル", "ヤマダ ビクトル", "1990-01-02"),
        Verdict.SAME,
        id="reading differs only in ヴ/ブ",
    ),
    pytest.param(
        P("佐々木花子", "ササキハナコ", "1962-08-30", address="大字桜ケ丘三丁目5番地12"),
        P("佐々木花子", "ササキハナコ", "1962-08-30", address="桜ヶ岡3-5-12"),
        Verdict.SAME,
        id="町字 typo (丘/岡) with the same 番地",
    ),
    pytest.param(
        P("渡邉\U000e0116正", "ワタナベタダシ", "1955-03-03", address="南町4-4"),
        P("渡辺正", "ワタナベタダシ", "1955-03-03", address="北区桜台2-9-1"),
        Verdict.SAME,
        id="邉 with IVS, moved house",
    ),
    pytest.param(
        P("葛\U000e0102西大樹", "カサイダイキ", "2001-12-24", address="東京都葛飾区立石5-13-1"),
        P("葛西大樹", "カサイダイキ", "2001-12-24", address="立石五丁目13番1号"),
        Verdict.SAME,
        id="tax input without IVS and without 都道府県",
    ),
    pytest.param(
        P("鈴木和子", "スズキカズコ", "1930-01-01", True, "東雲1-1"),
        P("鈴木和子", "スズキカズコ", "1930-06-15", False, "東雲1-1"),
        Verdict.PROBABLE,
        id="不詳 birth date (昭和5年頃) against a known one of the same year",
    ),
    pytest.param(
        P("鈴木和子", "スズキカズコ", "1930-01-01", True, "東雲1-1"),
        P("鈴木和子", "スズキカズコ", "1930-01-01", True, "東雲1-1"),
        Verdict.PROBABLE,
        id="both 不詳 with the same 推定日: never 同一人 by itself",
    ),
    pytest.param(
        P("鈴木和子", "スズキカズコ", "1930-01-01", True),
        P("鈴木和子", "スズキカズコ", "1948-01-01", True),
        Verdict.DIFFERENT,
        id="both 不詳, years far apart",
    ),
    pytest.param(
        P("佐藤健", "サトウケン", "1960-12-03"),
        P("佐藤健", "サトウケン", "1960-12-30"),
        Verdict.PROBABLE,
        id="birth date digits swapped (typo)",
    ),
    pytest.param(
        P("佐藤健", "サトウケン", "1960-12-03"),
        P("佐藤健", "サトウケン", "1960-03-12"),
        Verdict.PROBABLE,
        id="birth date 月/日 swapped",
    ),
    pytest.param(
        P("佐藤健", "サトウケン", "1960-12-03"),
        P("鈴木花子", "スズキハナコ", "1960-12-03"),
        Verdict.DIFFERENT,
        id="same birthday, different person",
    ),
    pytest.param(
        P("佐藤健"),
        P("佐藤健"),
        Verdict.PROBABLE,
        id="name only: a clerk must decide",
    ),
    pytest.param(
        P("中島裕子", "ナカジマユウコ", "1971-07-07"),
        P("中島裕子", "ナカシマユウコ", "1971-07-07"),
        Verdict.SAME,
        id="reading ジ/シ with same name and birth date",
    ),
    pytest.param(
        P("高橋一郎", "タカハシイチロウ", "1980-04-01"),
        P("高橋一朗", "タカハシイチロウ", "1980-04-01"),
        Verdict.PROBABLE,
        id="郎/朗: close name is not enough for 同一人",
    ),
    pytest.param(
        P("斎藤誠", "サイトウマコト", "1985-05-05"),
        P("斉藤誠", "サイトウマコト", "1985-05-05"),
        Verdict.PROBABLE,
        id="斎藤/斉藤 are different names: probable, for a person to check",
    ),
]


@pytest.mark.parametrize(("a", "b", "verdict"), CASES)
def test_verdicts(a: PersonFacts, b: PersonFacts, verdict: Verdict) -> None:
    result = match(a, b)
    assert result.verdict is verdict, result.reasons
    assert 0.0 <= result.score <= 1.0
    assert match(b, a) == result  # symmetric


def test_exact_scores_and_reasons() -> None:
    result = match(CASES[0].values[0], CASES[0].values[1])  # type: ignore[arg-type]
    assert result.score == 1.0
    assert result.reasons == (
        "氏名が異体字・IVS・全角半角の違いを除いて一致",
        "フリガナが表記ゆれを除いて一致",
        "生年月日が一致",
        "町字が一致、番地が一致",
    )

    different = match(CASES[1].values[0], CASES[1].values[1])  # type: ignore[arg-type]
    assert different.score == 0.2
    assert different.reasons[-1] == "生年月日が異なるため別人とする"
    assert [e.score for e in different.evidence] == [1.0, 1.0, 0.0, 1.0]

    name_only = match(P("佐藤健"), P("佐藤健"))
    assert name_only.score == 0.675  # 0.35 · 1 + 0.65 · neutral 0.5
    assert [e.score for e in name_only.evidence] == [1.0, None, None, None]
    assert name_only.reasons[-1] == "住所がないため比較できない"


def test_thresholds() -> None:
    assert 0 < PROBABLE < SAME <= 1
    assert Verdict.SAME.label == "同一人"
    assert Verdict.PROBABLE.label == "同一人の可能性"
    assert Verdict.DIFFERENT.label == "別人"


def test_same_requires_an_exact_birth_date() -> None:
    a = P("田中一", "タナカハジメ", "1950-01-01", True, "本町1-1")
    result = match(a, a)
    assert result.score == 0.8
    assert "生年月日で確認できないため「同一人」とはしない" in result.caps


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("大字東雲二丁目3番地の4", ("東雲", ("2", "3", "4"))),
        ("東雲2-3-4", ("東雲", ("2", "3", "4"))),
        ("東雲２－３－４", ("東雲", ("2", "3", "4"))),
        ("字東雲二丁目三番四号", ("東雲", ("2", "3", "4"))),
        ("霞が関一丁目", ("霞ケ関", ("1",))),
        ("霞ヶ関1", ("霞ケ関", ("1",))),
        ("八王子市八日町十二番地", ("八王子市八日町", ("12",))),  # 八 in names stays
        ("三鷹市下連雀三丁目二十三番一〇号", ("三鷹市下連雀", ("3", "23", "10"))),
        ("北山", ("北山", ())),
    ],
)
def test_town_key(address: str, key: tuple[str, tuple[str, ...]]) -> None:
    assert town_key(address) == key


def test_town_code_decides_when_both_have_one() -> None:
    a = P("山本陽子", address="東雲2-3-4", town_code="0012001")
    b = P("山本陽子", address="しののめ2-3-4", town_code="0012001")
    assert match(a, b).evidence[3].reason == "町字コードが一致、番地が一致"


def test_different_towns_are_not_typos() -> None:
    a = P("山本陽子", "ヤマモトヨウコ", "1970-01-01", address="東町1-1")
    b = P("山本陽子", "ヤマモトヨウコ", "1970-01-01", address="西町1-1")
    assert match(a, b).evidence[3].reason == "住所が異なる（転居の可能性）"


def test_candidate_keys_group_variants_together() -> None:
    a = P("髙橋一郎", "タカハシイチロウ", "1980-04-01")
    b = P("高橋一郎", "たかはしいちろう", "1980-04-01")
    c = P("高橋一郎", "タカハシイチロウ", "1975-11-20")
    assert candidate_keys(a) == candidate_keys(b)
    assert candidate_keys(a) & candidate_keys(c) == {"d:高橋一郎:タカハシイチロウ"}
    assert candidate_keys(P("")) == frozenset()


names = st.sampled_from(["髙橋一郎", "高橋一郎", "高橋一朗", "佐藤健", "斉藤誠", ""])
kanas = st.sampled_from(["タカハシイチロウ", "たかはしいちろう", "サトウケン", ""])
dates = st.sampled_from(["1980-04-01", "1980-04-10", "1980-01-04", "1975-11-20", ""])
addresses = st.sampled_from(["中央1-1", "中央一丁目1番", "千代田区中夬1-2", "東町1-1", ""])
people = st.builds(
    PersonFacts, names, kanas, dates, st.booleans(), addresses, st.sampled_from(["", "0001"])
)


@given(people, people)
def test_match_is_symmetric_and_bounded(a: PersonFacts, b: PersonFacts) -> None:
    result = match(a, b)
    assert result == match(b, a)
    assert 0.0 <= result.score <= 1.0
    if result.verdict is Verdict.SAME:
        assert a.birth_date == b.birth_date and not a.birth_date_unknown
