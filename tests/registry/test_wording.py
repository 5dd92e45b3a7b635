"""What the 住民記録 screens say about dates: 届出日 and 転出・消除の日 in 和暦 beside the 異動日
(西暦 for 外国人住民), and a 生年月日 typed in 西暦 or 和暦 at the 誤記修正."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from moyai.platform.models import AuditAction, AuditEvent, Role
from moyai.platform.tenancy import tenant_context
from moyai.registry import services
from moyai.registry.models import Movement, ResidentRecord
from moyai.registry.rules import FuzzyDate, iso_date_from_text, iso_month_from_text
from moyai.registry.services import Address, NewPerson
from moyai.registry.templatetags.registry import iso_wareki

from ..conftest import signed_in_client
from .conftest import note, person
from .test_views import MOVE_IN


@pytest.fixture
def clerk(town_a, make_staff):
    return signed_in_client(make_staff(town_a, Role.REGISTRY))


def test_the_notification_date_is_in_wareki_like_the_movement_date(town_a, clerk) -> None:
    clerk.post(reverse("registry:move_in"), MOVE_IN | {"step": "commit"})
    listing = clerk.get(reverse("registry:movements")).content.decode()
    assert "<td>令和8年4月1日</td><td>令和8年4月3日</td>" in listing  # 異動日, 届出日
    assert "2026-04-03" not in listing
    with tenant_context(town_a):
        head = ResidentRecord.objects.get(is_head=True)
    history = clerk.get(reverse("registry:history", args=[head.person_id])).content.decode()
    assert "<td>令和8年4月1日</td><td>令和8年4月3日</td>" in history
    assert "2026-04-03" not in history


def test_the_clerk_of_a_movement_made_by_a_command_is_named_as_a_command(
    town_a, in_town, clerk
) -> None:
    """処理者: a staff member's login as it is; a CLI actor as コマンド（…）, not ``cli:…``."""
    with in_town(town_a):  # acts as the CLI actor ``cli:test``
        services.move_in(
            notification=note(),
            previous_address="東京都千代田区千代田1-1",
            address=Address(town="一色", block="1234番地"),
            members=[person("髙橋", "一郎", "タカハシ　イチロウ", "1980-05-10", "1", "世帯主")],
        )
    listing = clerk.get(reverse("registry:movements")).content.decode()
    assert "コマンド（test）" in listing and "cli:test" not in listing


def test_moved_out_and_removed_dates_follow_the_person(town_a, in_town, clerk) -> None:
    with in_town(town_a):
        moved = services.move_in(
            notification=note(),
            previous_address="東京都千代田区千代田1-1",
            address=Address(town="一色", block="1234番地"),
            members=[person("髙橋", "一郎", "タカハシ　イチロウ", "1980-05-10", "1", "世帯主")],
        )
        foreign = services.move_in(
            notification=note(),
            previous_address="アメリカ合衆国",
            from_abroad=True,
            address=Address(town="堀内", block="500番地"),
            members=[
                NewPerson(
                    family_name="SMITH",
                    given_name="JOHN",
                    name_kana="スミス　ジョン",
                    birth=FuzzyDate("1975-01-01"),
                    sex="1",
                    relation="世帯主",
                    kind="2",
                    nationality="アメリカ合衆国",
                    residence_status="永住者",
                    article_30_45="中長期在留者",
                    residence_card_number="AB12345678CD",
                )
            ],
        )
        for result in (moved, foreign):
            pid = result.records[0].person_id
            services.move_out(
                notification=note("2026-06-30", "2026-06-20"),
                person_ids=[pid],
                destination="横浜市中区本町1-1",
            )
            services.move_out_confirm(
                person_id=pid,
                destination="横浜市中区本町1-1-101",
                moved_out_on=FuzzyDate("2026-07-01"),
                notice_on=date(2026, 7, 10),
            )
    page = clerk.get(reverse("registry:person", args=[moved.records[0].person_id]))
    text = page.content.decode()
    assert "横浜市中区本町1-1-101（令和8年7月1日）" in text and "2026-07-01" not in text
    page = clerk.get(reverse("registry:person", args=[foreign.records[0].person_id]))
    assert "横浜市中区本町1-1-101（2026年7月1日）" in page.content.decode()


def test_the_correction_takes_a_wareki_birth_date(town_a, clerk) -> None:
    clerk.post(reverse("registry:move_in"), MOVE_IN | {"step": "commit"})
    with tenant_context(town_a):
        head = ResidentRecord.objects.get(is_head=True)
        movements = Movement.objects.count()
        writes = AuditEvent.objects.exclude(action=AuditAction.READ).count()
    url = reverse("registry:correction", args=[head.person_id])
    form = clerk.get(url).content.decode()
    assert (
        "YYYY" not in form and "生年月日（西暦または和暦。例: 1985-04-01、昭和60年4月1日）" in form
    )
    body = {"field": "birth_date", "reason": "届書の誤記", "counter": "本庁", "step": "commit"}
    bad = clerk.post(url, body | {"value": "昭和65年1月15日"})
    assert bad.status_code == 400
    assert "生年月日は西暦か和暦の年月日で入力してください" in bad.content.decode()
    with tenant_context(town_a):
        assert Movement.objects.count() == movements  # refused: nothing written
        assert AuditEvent.objects.exclude(action=AuditAction.READ).count() == writes
    done = clerk.post(url, body | {"value": "昭和45年1月16日"})
    assert done.status_code == 200, done.content.decode()[:1500]
    with tenant_context(town_a):
        latest = ResidentRecord.objects.get(person_id=head.person_id, is_latest=True)
        assert latest.birth_date == "1970-01-16"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("1985-04-01", "1985-04-01"),
        ("1985/4/1", "1985-04-01"),
        ("１９８５－０４－０１", "1985-04-01"),
        ("昭和60年4月1日", "1985-04-01"),
        ("平成元年1月8日", "1989-01-08"),
        ("昭和64年1月7日", "1989-01-07"),
        ("令和元年5月1日", "2019-05-01"),
        ("平成31年4月30日", "2019-04-30"),
    ],
)
def test_iso_date_from_text(text: str, iso: str) -> None:
    assert iso_date_from_text(text) == iso


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1985-13-01",
        "1985-02-30",
        "昭和65年1月1日",
        "平成元年1月7日",
        "平成31年5月1日",
        "S60.4.1",
    ],
)
def test_iso_date_from_text_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        iso_date_from_text(text)


def test_iso_month_from_text() -> None:
    assert iso_month_from_text("2015-04") == "2015-04"
    assert iso_month_from_text("2015-4") == "2015-04"
    assert iso_month_from_text("2002") == "2002"
    assert iso_month_from_text("平成27年4月") == "2015-04"
    assert iso_month_from_text("平成14年") == "2002"
    assert iso_month_from_text("昭和64年1月") == "1989-01"
    for bad in ("2015-13", "2015-04-01", "昭和65年", "平成27年4月1日", "H27.4"):
        with pytest.raises(ValueError):
            iso_month_from_text(bad)


def test_iso_wareki_filter() -> None:
    assert iso_wareki("2024-09-17") == "令和6年9月17日"
    assert iso_wareki(date(2024, 9, 17)) == "令和6年9月17日"
    assert iso_wareki("2024-09-17", True) == "2024年9月17日"
    assert iso_wareki(None) == "" and iso_wareki("1975年頃") == "1975年頃"
