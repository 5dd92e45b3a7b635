"""Shared arrangements of the 固定資産税・軽自動車税 tests."""

from __future__ import annotations

import io
from datetime import date

from moyai.registry import services as registry
from moyai.registry.rules import FuzzyDate
from moyai.registry.services import Address, NewPerson, Notification


def family(town, in_town, *, family_name: str = "髙橋", town_name: str = "一色"):
    """A household of two adults moved in on 2024-10-01 (so residents on 2025-01-01)."""
    with in_town(town):
        return registry.move_in(
            notification=Notification(FuzzyDate("2024-10-01"), date(2024, 10, 3)),
            previous_address="東京都千代田区千代田1-1",
            address=Address(town=town_name, block="1234番地"),
            members=[
                NewPerson(
                    family_name=family_name,
                    given_name="一郎",
                    name_kana="タカハシ　イチロウ",
                    birth=FuzzyDate("1980-05-10"),
                    sex="1",
                    relation="世帯主",
                ),
                NewPerson(
                    family_name=family_name,
                    given_name="花子",
                    name_kana="タカハシ　ハナコ",
                    birth=FuzzyDate("1982-11-03"),
                    sex="2",
                    relation="妻",
                ),
            ],
        )


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return text.replace(" ", "").replace("\u3000", "")
