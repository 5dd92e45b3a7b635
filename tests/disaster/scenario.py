"""A small town with a flood over three 町字: the arrangement the disaster tests share.

Households (moved in 2024-04-01, so living there on the 基準日 2026-10-09):

=====  =====================  =====  ===========================================
key    address                size   house (固定資産課税台帳)
=====  =====================  =====  ===========================================
h1     一色 1番地              3      own 居宅 一色 1番1
h2     一色 2番地              1      own 居宅 一色 2番1
h3     堀内 3番地 A棟101       2      rented (no house of theirs)
h4     堀内 3番地 A棟102       2      rented, same 住家 as h3
h5     長柄 5番地              2      own 居宅 長柄 5番1
h7     長柄 7番地              1      none, never surveyed
far    木古庭 9番地            1      outside the area; owns a 居宅 一色 8番8 (rented out)
=====  =====================  =====  ===========================================

Plus a 住登外 owner of a 居宅 長柄 9番9, someone who moved into 一色 after the flood and
someone who died before it (neither is in the ledger).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from moyai.registry import services as registry
from moyai.registry.rules import FuzzyDate
from moyai.registry.services import Address, NewPerson, Notification
from moyai.tax.addressees import services as addressees
from moyai.tax.property import services as property_tax

FLOOD_ON = date(2026, 10, 10)
TOWNS = ["一色", "堀内", "長柄"]


def _person(family: str, given: str, kana: str, birth: str, sex: str, relation: str) -> NewPerson:
    return NewPerson(
        family_name=family,
        given_name=given,
        name_kana=kana,
        birth=FuzzyDate(birth),
        sex=sex,
        relation=relation,
    )


def _move_in(
    town: str, block: str, members: list[NewPerson], *, on: str = "2024-04-01", building: str = ""
) -> list[int]:
    result = registry.move_in(
        notification=Notification(FuzzyDate(on), date.fromisoformat(on)),
        previous_address="東京都千代田区千代田1-1",
        address=Address(town=town, block=block, building=building),
        members=members,
    )
    return [r.person_id for r in result.records]


def _house(owner_id: int, location: str, number: str) -> None:
    property_tax.building_register(
        owner_id=owner_id,
        facts=property_tax.BuildingFacts(
            location=location,
            house_number=number,
            house_kind="居宅",
            structure="木造",
            floor_area_m2="100",
            assessed_value=5_000_000,
            built_year=2000,
        ),
        changed_on=date(2025, 10, 1),
    )


@dataclass
class Town:
    persons: dict[str, list[int]]


def build_town() -> Town:
    """Inside ``in_town``: the registry and the 家屋 of the scenario."""
    p: dict[str, list[int]] = {}
    p["h1"] = _move_in(
        "一色",
        "1番地",
        [
            _person("山田", "太郎", "ヤマダ　タロウ", "1970-05-01", "1", "世帯主"),
            _person("山田", "花子", "ヤマダ　ハナコ", "1972-08-15", "2", "妻"),
            _person("山田", "翔", "ヤマダ　ショウ", "2005-04-02", "1", "子"),
        ],
    )
    p["h2"] = _move_in(
        "一色",
        "2番地",
        [
            _person("鈴木", "一郎", "スズキ　イチロウ", "1950-01-20", "1", "世帯主"),
        ],
    )
    p["h3"] = _move_in(
        "堀内",
        "3番地",
        [
            _person("佐藤", "健", "サトウ　ケン", "1985-03-03", "1", "世帯主"),
            _person("佐藤", "恵", "サトウ　メグミ", "1987-07-07", "2", "妻"),
        ],
        building="A棟101",
    )
    p["h4"] = _move_in(
        "堀内",
        "3番地",
        [
            _person("髙橋", "誠", "タカハシ　マコト", "1990-09-09", "1", "世帯主"),
            _person("髙橋", "𠮷子", "タカハシ　ヨシコ", "2022-01-10", "2", "子"),
        ],
        building="A棟102",
    )
    p["h5"] = _move_in(
        "長柄",
        "5番地",
        [
            _person("田中", "修", "タナカ　オサム", "1960-06-06", "1", "世帯主"),
            _person("田中", "和子", "タナカ　カズコ", "1962-02-02", "2", "妻"),
        ],
    )
    p["h7"] = _move_in(
        "長柄",
        "7番地",
        [
            _person("伊藤", "静", "イトウ　シズカ", "1940-12-12", "2", "世帯主"),
        ],
    )
    p["far"] = _move_in(
        "木古庭",
        "9番地",
        [
            _person("渡辺", "淳", "ワタナベ　ジュン", "1975-10-10", "1", "世帯主"),
        ],
    )
    p["late"] = _move_in(
        "一色",
        "11番地",
        [
            _person("中村", "遅", "ナカムラ　オソシ", "1999-01-01", "1", "世帯主"),
        ],
        on="2026-10-15",
    )
    p["dead"] = _move_in(
        "一色",
        "12番地",
        [
            _person("小林", "故", "コバヤシ　モト", "1930-03-03", "1", "世帯主"),
        ],
    )
    registry.death(
        notification=Notification(FuzzyDate("2026-09-01"), date(2026, 9, 2)),
        person_id=p["dead"][0],
    )
    for key, town, number in (
        ("h1", "一色", "1番1"),
        ("h2", "一色", "2番1"),
        ("h5", "長柄", "5番1"),
        ("far", "一色", "8番8"),
    ):
        owner = addressees.addressee_for_resident(person_id=p[key][0])
        _house(owner.pk, town, number)
    outsider = addressees.addressee_register_non_resident(
        name="架空　次郎", kana="カクウ　ジロウ", address="東京都千代田区架空町1丁目2番地"
    )
    _house(outsider.pk, "長柄", "9番9")
    return Town(p)
