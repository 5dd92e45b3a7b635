import pytest
from hypothesis import given
from hypothesis import strategies as st

from moyai.platform.rules import (
    GENESIS_HASH,
    chain_hash,
    local_government_check_digit,
    prefecture_of,
    validate_local_government_code,
)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("011002", "札幌市"),
        ("012025", "函館市"),
        ("131016", "千代田区"),
        ("143014", "葉山町"),
        ("143219", "寒川町"),
        ("143413", "大磯町"),
        ("271004", "大阪市"),
        ("472018", "那覇市"),
    ],
)
def test_real_codes_validate(code: str, name: str) -> None:
    assert validate_local_government_code(code) is None, name


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("143015", "検査数字"),
        ("14301", "6桁"),
        ("１４３０１４", "6桁"),
        ("483014", "都道府県コード"),
        ("003012", "都道府県コード"),
        ("abcdef", "6桁"),
    ],
)
def test_bad_codes_say_why(code: str, reason: str) -> None:
    problem = validate_local_government_code(code)
    assert problem is not None and reason in problem


@given(st.from_regex(r"^(0[1-9]|[1-3][0-9]|4[0-7])[0-9]{3}$", fullmatch=True))
def test_exactly_one_check_digit_is_valid(five: str) -> None:
    valid = [d for d in range(10) if validate_local_government_code(f"{five}{d}") is None]
    assert valid == [local_government_check_digit(five)]


def test_prefecture_of() -> None:
    assert prefecture_of("143014") == "神奈川県"
    assert prefecture_of("011002") == "北海道"
    assert prefecture_of("472018") == "沖縄県"


def test_chain_hash_depends_on_previous_and_content() -> None:
    a = chain_hash(GENESIS_HASH, {"x": 1, "名前": "髙橋"})
    assert a == chain_hash(GENESIS_HASH, {"名前": "髙橋", "x": 1})  # key order does not matter
    assert a != chain_hash(GENESIS_HASH, {"x": 1, "名前": "高橋"})
    assert a != chain_hash("1" * 64, {"x": 1, "名前": "髙橋"})
    assert len(a) == 64
