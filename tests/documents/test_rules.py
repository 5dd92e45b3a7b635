import pytest

from moyai.documents.kinds import get_kind, register_kind
from moyai.documents.rules import Serial, format_serial, parse_serial


def test_serial_format_and_parse_round_trip() -> None:
    assert format_serial("143014", 2026, 1) == "143014-2026-000001"
    assert format_serial("143014", 2026, 999_999) == "143014-2026-999999"
    assert parse_serial("143014-2026-000123") == Serial("143014", 2026, 123)
    assert str(parse_serial(" 143014-2026-000123 ")) == "143014-2026-000123"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "143014-2026-00012",  # 5 digits
        "143014-2026-0000123",  # 7 digits
        "143015-2026-000123",  # wrong check digit of the 団体コード
        "483010-2026-000123",  # prefecture 48
        "143014-2026-000000",  # number 0 is never issued
        "143014-26-000123",
        "１４３０１４-2026-000123",  # full-width digits
        "143014_2026_000123",
        "143014-2026-000123/../x",
    ],
)
def test_malformed_serials_do_not_parse(text: str) -> None:
    assert parse_serial(text) is None


def test_format_refuses_numbers_out_of_range() -> None:
    with pytest.raises(ValueError):
        format_serial("143014", 2026, 0)
    with pytest.raises(ValueError):
        format_serial("143014", 2026, 1_000_000)


def test_kinds_are_registered_once_with_one_label() -> None:
    kind = register_kind("tests.certificate", "テスト証明書")
    assert get_kind("tests.certificate") == kind
    assert register_kind("tests.certificate", "テスト証明書") == kind
    with pytest.raises(ValueError, match="already registered"):
        register_kind("tests.certificate", "別の名前")
    with pytest.raises(ValueError):
        register_kind("NoDot", "x")
