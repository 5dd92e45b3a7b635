"""支援制度 in words: the settings of a programme as a table in Japanese (単位, 金額 per 被害の程度,
単数世帯の割合, 減免の割合 by 所得), and a form that explains each JSON key with an example."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from django.urls import reverse

from moyai.disaster import rules, services
from moyai.disaster.models import Programme
from moyai.platform.models import Role
from tests.conftest import signed_in_client

pytestmark = pytest.mark.django_db

ON = date(2026, 10, 12)


@pytest.fixture
def disaster(town_a, in_town):
    with in_town(town_a):
        d = services.disaster_register(
            code="R8-009",
            name="令和8年10月豪雨",
            kind="豪雨",
            occurred_on=ON,
            towns=["一色"],
            support_act_on=ON,
        )
        services.programme_define(
            disaster_id=d.pk,
            code="own-1",
            name="町独自の住宅再建支援金",
            kind="own",
            config={
                "unit": "household",
                "amounts": {"半壊": 180000, "全壊": 350000},
                "single_factor": "3/4",
                "per_person_extra": 10000,
                "cap": 500000,
            },
        )
    return d


def test_the_programme_page_shows_the_settings_in_words(town_a, make_staff, in_town, disaster):
    client = signed_in_client(make_staff(town_a, Role.DISASTER))
    with in_town(town_a):
        own, tax, basic = (
            Programme.objects.get(disaster=disaster, code=c)
            for c in ("own-1", "resident_tax", "support_basic")
        )
    page = client.get(reverse("disaster:programme", args=[own.pk])).content.decode()
    for row in (
        "<tr><th>配分の単位</th><td>世帯あたり</td></tr>",
        "<tr><th>金額（全壊）</th><td>350,000円</td></tr>",
        "<tr><th>金額（半壊）</th><td>180,000円</td></tr>",
        "<tr><th>単数世帯（1人の世帯）の割合</th><td>4分の3</td></tr>",
        "<tr><th>世帯員1人あたりの加算</th><td>10,000円</td></tr>",
        "<tr><th>上限額</th><td>500,000円</td></tr>",
    ):
        assert row in page
    assert page.index("金額（全壊）") < page.index("金額（半壊）")  # in the order of the 区分
    assert "single_factor" not in page and "{&quot;" not in page and "&quot;unit" not in page

    page = client.get(reverse("disaster:programme", args=[tax.pk])).content.decode()
    assert (
        "<tr><th>合計所得金額 5,000,000円以下</th>"
        "<td>全壊 全額、大規模半壊 2分の1、中規模半壊 2分の1、半壊 2分の1</td></tr>"
    ) in page
    assert "<tr><th>上の区分を超える所得</th><td>減免なし</td></tr>" in page
    assert "income_limit" not in page

    page = client.get(reverse("disaster:programme", args=[basic.pk])).content.decode()
    assert "被災者生活再建支援法の定める額（設定は不要）" in page


def test_the_programme_form_explains_each_key(town_a, make_staff, disaster) -> None:
    client = signed_in_client(make_staff(town_a, Role.DISASTER))
    page = client.get(reverse("disaster:programmes", args=[disaster.pk])).content.decode()
    assert 'data-testid="config-help"' in page
    for key, words in (
        ("unit", "配分の単位"),
        ("amounts", "被害の程度ごとの金額（円"),
        ("single_factor", "単数世帯（1人の世帯）に支給する割合"),
        ("per_person_extra", "世帯員1人あたりの加算"),
        ("cap", "1世帯あたりの上限額"),
        ("rates", "被害の程度ごとの減免の割合"),
        ("bands", "合計所得金額で割合を変える"),
    ):
        assert f"<td><code>{key}</code></td><td>{words}" in page, key


def test_describe_allocation_and_reduction() -> None:
    rule = rules.allocation_rule_from_mapping({"unit": "person", "amounts": {"準半壊": 50000}})
    assert rules.describe_allocation(rule) == [
        ("配分の単位", "1人あたり"),
        ("金額（準半壊）", "50,000円"),
    ]  # 単数世帯の割合 means nothing per person
    rule = rules.allocation_rule_from_mapping({"unit": "dwelling", "amounts": {"total": 1}})
    assert rules.describe_allocation(rule) == [
        ("配分の単位", "住家（戸）あたり"),
        ("金額（全壊）", "1円"),
        ("単数世帯（1人の世帯）の割合", "全額"),
    ]
    red = rules.reduction_rule_from_mapping({"rates": {"半壊": "1/4", "全壊": "1"}})
    assert rules.describe_reduction(red) == [("所得の条件なし", "全壊 全額、半壊 4分の1")]
    assert rules.share_text(Fraction(0)) == "なし"
