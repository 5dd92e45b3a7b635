"""税務宛名: residents, 住登外者, 法人 (法人番号 check digit), 共有, 送付先・納税管理人."""

from __future__ import annotations

import pytest

from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent
from moyai.tax.addressees import selectors, services
from moyai.tax.addressees.models import Addressee, AddresseeKind, CoOwner

from .property_fixtures import family


def _valid_corporate() -> str:
    from moyai.platform.rules import corporate_number_check_digit

    return f"{corporate_number_check_digit('700110005901')}700110005901"


def test_resident_addressee_is_made_once_from_the_registry(town_a, in_town) -> None:
    moved = family(town_a, in_town)
    head = moved.records[0]
    with in_town(town_a):
        first = services.addressee_for_resident(person_id=head.person_id)
        again = services.addressee_for_resident(person_id=head.person_id)
        assert first.pk == again.pk
        assert first.kind == AddresseeKind.RESIDENT
        assert first.name == head.name and first.number == "T000000001"
        with pytest.raises(ServiceError) as missing:
            services.addressee_for_resident(person_id=999_999)
        assert missing.value.code == "not_found"


def test_non_resident_and_corporation_are_validated(town_a, in_town) -> None:
    with in_town(town_a):
        before = AuditEvent.objects.count()
        with pytest.raises(ServiceError) as no_kana:
            services.addressee_register_non_resident(name="架空　一郎", kana="", address="東京都")
        assert no_kana.value.field == "kana"
        with pytest.raises(ServiceError) as bad_birth:
            services.addressee_register_non_resident(
                name="架空　一郎",
                kana="カクウ　イチロウ",
                birth_date="1950-13-01",
                address="東京都",
            )
        assert bad_birth.value.field == "birth_date"
        with pytest.raises(ServiceError) as bad_number:
            services.addressee_register_corporation(
                corporate_number="1700110005901", name="株式会社架空", address="東京都"
            )
        assert bad_number.value.field == "corporate_number"
        assert Addressee.objects.count() == 0
        assert AuditEvent.objects.count() == before  # refusals leave no trace

        person = services.addressee_register_non_resident(
            name="架空　一郎", kana="カクウ　イチロウ", birth_date="1950-03-10", address="東京都"
        )
        number = _valid_corporate()
        corp = services.addressee_register_corporation(
            corporate_number=number, name="株式会社架空", address="東京都港区"
        )
        assert corp.kind == AddresseeKind.CORPORATION
        assert (
            services.addressee_register_corporation(
                corporate_number=number, name="別名", address="別"
            ).pk
            == corp.pk
        )
        assert person.kind == AddresseeKind.NON_RESIDENT
        found = selectors.addressee_search(query="カクウ", purpose="テスト")
        assert [a.pk for a in found] == [person.pk]
        assert selectors.addressee_search(query=number, purpose="テスト")[0].pk == corp.pk


def test_co_owners_are_one_taxpayer_with_a_representative(town_a, in_town) -> None:
    moved = family(town_a, in_town)
    with in_town(town_a):
        a = services.addressee_for_resident(person_id=moved.records[0].person_id)
        b = services.addressee_register_non_resident(
            name="見本　次郎", kana="ミホン　ジロウ", address="東京都"
        )
        with pytest.raises(ServiceError) as sums:
            services.co_owners_register(
                members=[services.Share(a.pk, "1/2"), services.Share(b.pk, "1/3")],
                representative_id=a.pk,
            )
        assert sums.value.field == "members"
        with pytest.raises(ServiceError) as rep:
            services.co_owners_register(
                members=[services.Share(a.pk, "1/2"), services.Share(b.pk, "1/2")],
                representative_id=999,
            )
        assert rep.value.field == "representative_id"
        with pytest.raises(ServiceError) as bad_share:
            services.co_owners_register(
                members=[services.Share(a.pk, "half"), services.Share(b.pk, "1/2")],
                representative_id=a.pk,
            )
        assert bad_share.value.field == "members[0].share"
        assert Addressee.objects.filter(kind=AddresseeKind.CO_OWNERS).count() == 0

        group = services.co_owners_register(
            members=[services.Share(a.pk, "1/2"), services.Share(b.pk, "2/4")],
            representative_id=a.pk,
        )
        assert group.kind == AddresseeKind.CO_OWNERS
        assert group.name == f"{a.name} 外1名"
        assert CoOwner.objects.filter(group=group).count() == 2
        same = services.co_owners_register(
            members=[services.Share(b.pk, "1/2"), services.Share(a.pk, "1/2")],
            representative_id=b.pk,
        )
        assert same.pk == group.pk and same.representative_id == b.pk
        assert [g.pk for g in selectors.groups_of(addressee=a)] == [group.pk]
        with pytest.raises(ServiceError):
            services.co_owners_register(
                members=[services.Share(group.pk, "1/2"), services.Share(b.pk, "1/2")],
                representative_id=b.pk,
            )


def test_send_to_and_tax_manager_per_business(town_a, in_town) -> None:
    with in_town(town_a):
        person = services.addressee_register_non_resident(
            name="架空　一郎", kana="カクウ　イチロウ", address="東京都千代田区"
        )
        assert services.mail_to(person, "property_tax").address == "東京都千代田区"
        with pytest.raises(ServiceError) as no_note:
            services.contact_set(
                addressee_id=person.pk,
                business="property_tax",
                role="manager",
                name="代理　三郎",
                address="葉山町",
                note="",
            )
        assert no_note.value.field == "note"
        services.contact_set(
            addressee_id=person.pk,
            business="all",
            role="send_to",
            name="架空　一郎",
            address="大阪府大阪市北区1-1",
            postal_code="530-0001",
            note="転居先への送付",
        )
        services.contact_set(
            addressee_id=person.pk,
            business="property_tax",
            role="manager",
            name="代理　三郎",
            address="神奈川県三浦郡葉山町堀内1",
            note="納税管理人申告書",
        )
        person.refresh_from_db()
        to = services.mail_to(person, "property_tax")
        assert (to.name, to.care_of) == ("代理　三郎", "納税管理人")
        other = services.mail_to(person, "light_vehicle_tax")
        assert (other.address, other.postal_code, other.care_of) == (
            "大阪府大阪市北区1-1",
            "5300001",
            "送付先",
        )
