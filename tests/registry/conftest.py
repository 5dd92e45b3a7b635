from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from moyai.registry import services
from moyai.registry.rules import FuzzyDate
from moyai.registry.services import Address, NewPerson, Notification


def note(d: str = "2026-04-01", notified: str | None = "2026-04-03", **kw: Any) -> Notification:
    return Notification(
        FuzzyDate(d),
        date.fromisoformat(notified) if notified else None,
        notifier_name=kw.get("notifier", "山田　太郎"),
        notifier_relation="本人",
        counter="本庁市民課",
    )


def person(
    family: str, given: str, kana: str, birth: str, sex: str, relation: str, **kw: Any
) -> NewPerson:
    return NewPerson(
        family_name=family,
        given_name=given,
        name_kana=kana,
        birth=kw.pop("birth_fuzzy", None) or FuzzyDate(birth),
        sex=sex,
        relation=relation,
        **kw,
    )


@pytest.fixture
def registry(town_a, in_town):
    """Work inside 葉山町 as a CLI actor."""
    with in_town(town_a):
        yield town_a


@pytest.fixture
def family(registry):
    """髙橋 family moves in: head, wife, son; returns the MovementResult."""
    return services.move_in(
        notification=note(),
        previous_address="東京都千代田区千代田1-1",
        address=Address(
            town="一色",
            block="1234番地",
            building="コーポ一色101",
            postal_code="2400111",
            town_code="0010001",
        ),
        members=[
            person(
                "髙橋",
                "一郎",
                "タカハシ　イチロウ",
                "1980-05-10",
                "1",
                "世帯主",
                my_number="621498320257",
                domicile="東京都千代田区千代田1番",
                domicile_head="髙橋　一郎",
            ),
            person("髙橋", "花子", "タカハシ　ハナコ", "1982-11-03", "2", "妻"),
            person("髙橋", "翔", "タカハシ　ショウ", "2012-04-02", "1", "子"),
        ],
    )
