from __future__ import annotations

from datetime import date

import pytest

from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent, OutboxEvent
from moyai.registry import selectors, services
from moyai.registry.models import Person, ResidentRecord, ResidentStatus
from moyai.registry.rules import FuzzyDate, m11_problem
from moyai.registry.services import Address, NewPerson

from ..conftest import acts_recorded
from .conftest import note, person


def pdf_text(pdf: bytes) -> str:
    """The PDF's text without the letter-spacing blanks of titles."""
    import io

    from pypdf import PdfReader

    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "")


def latest(pid: int) -> ResidentRecord:
    return ResidentRecord.objects.get(person_id=pid, is_latest=True)


def ids(result) -> list[int]:
    return [r.person_id for r in result.records]


def test_move_in_creates_a_household_with_numbers_and_history(family) -> None:
    head, wife, son = family.records
    assert family.movement.get_kind_display() == "転入"
    assert head.is_head and head.relation == "世帯主" and wife.relation == "妻"
    assert son.relation == "子" and son.head_name == "髙橋　一郎"
    assert head.household_number == wife.household_number == son.household_number
    assert m11_problem(head.household_number) is None
    assert m11_problem(head.person.address_number) is None
    assert head.address == "神奈川県葉山町一色1234番地 コーポ一色101"
    assert head.became_resident_on == head.address_set_on == "2026-04-01"
    assert head.seq == 1 and head.effective_from == "2026-04-01"
    assert family.warnings == []
    # 個人番号 is stored encrypted, never in clear.
    p = Person.objects.get(pk=head.person_id)
    assert "621498320257" not in p.my_number_cipher and p.my_number_index
    assert selectors.my_number_reveal(person_id=p.pk, purpose="本人確認") == "621498320257"
    # One event with before/after, one audit row per person.
    event = OutboxEvent.objects.get(type="resident.moved_in")
    assert [x["before"] for x in event.payload["persons"]] == [None, None, None]
    assert event.payload["persons"][0]["after"]["name"] == "髙橋　一郎"
    assert AuditEvent.objects.filter(action="create", target_type="person").count() == 3


def test_late_notification_warns_but_registers(registry) -> None:
    result = services.move_in(
        notification=note("2026-03-01", "2026-03-20"),
        previous_address="大阪市北区",
        address=Address(town="堀内"),
        members=[person("佐藤", "次郎", "サトウ　ジロウ", "1990-01-01", "1", "世帯主")],
    )
    assert len(result.warnings) == 1 and "5日過ぎています" in result.warnings[0]
    assert result.movement.warnings == result.warnings


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name_kana": "さとう"}, "members[0].name_kana"),
        ({"relation": "妻"}, "members.relation"),
        ({"relation": "孫"}, "members[0].relation"),
        ({"sex": "3"}, "members[0].sex"),
        ({"my_number": "621498320258"}, "members[0].my_number"),
        ({"kind": "2"}, "members[0].nationality"),
        ({"nationality": "アメリカ合衆国"}, "members[0].nationality"),
        ({"birth": "2999-01-01"}, "members[0].birth"),
    ],
)
def test_move_in_refusals_name_the_field_and_write_nothing(registry, change, field) -> None:
    values = dict(
        family="佐藤",
        given="次郎",
        kana="サトウ　ジロウ",
        birth="1990-01-01",
        sex="1",
        relation="世帯主",
    )
    extra = {}
    for k, v in change.items():
        if k in ("name_kana",):
            values["kana"] = v
        elif k in values:
            values[k] = v
        else:
            extra[k] = v
    with pytest.raises(ServiceError) as err:
        services.move_in(
            notification=note(),
            previous_address="大阪市北区",
            address=Address(town="堀内"),
            members=[
                person(
                    values["family"],
                    values["given"],
                    values["kana"],
                    values["birth"],
                    values["sex"],
                    values["relation"],
                    **extra,
                )
            ],
        )
    assert err.value.field == field
    assert not Person.objects.exists() and not ResidentRecord.objects.exists()
    assert not OutboxEvent.objects.exists() and not acts_recorded().exists()


def test_foreign_resident_and_unknown_birth_date(registry) -> None:
    result = services.move_in(
        notification=note(),
        previous_address="アメリカ合衆国",
        from_abroad=True,
        address=Address(town="堀内", block="500番地"),
        members=[
            NewPerson(
                family_name="SMITH",
                given_name="JOHN",
                name_kana="スミス　ジョン",
                birth=FuzzyDate("1975-01-01", unknown=True, label="1975年頃"),
                sex="1",
                relation="世帯主",
                kind="2",
                nationality="アメリカ合衆国",
                residence_status="永住者",
                article_30_45="中長期在留者",
                alias="山田　太郎",
                residence_card_number="AB12345678CD",
            )
        ],
    )
    rec = result.records[0]
    assert result.movement.get_kind_display() == "国外転入"
    assert rec.is_foreign and rec.birth.unknown and rec.birth.label == "1975年頃"
    # 通称 is searchable like a name.
    found = selectors.person_search(query=selectors.SearchQuery(name="山田太郎"), purpose="t")
    assert [r.person_id for r in found] == [rec.person_id]


def test_birth_joins_the_parents_household(family) -> None:
    head = family.records[0]
    result = services.birth(
        notification=note("2026-04-10", "2026-04-15"),
        household_number=head.household_number,
        child=person("髙橋", "美咲", "タカハシ　ミサキ", "2026-04-10", "2", "子"),
    )
    child = result.records[0]
    assert child.household_order == 4 and child.became_resident_on == "2026-04-10"
    assert OutboxEvent.objects.filter(type="resident.born").count() == 1
    with pytest.raises(ServiceError, match="生年月日と同じ日"):
        services.birth(
            notification=note("2026-04-11", "2026-04-15"),
            household_number=head.household_number,
            child=person("髙橋", "次", "タカハシ　ツギ", "2026-04-10", "1", "子"),
        )


def test_death_of_the_head_requires_a_new_head_and_relations(family) -> None:
    head, wife, son = family.records
    with pytest.raises(ServiceError) as err:
        services.death(notification=note("2026-05-01", "2026-05-02"), person_id=head.person_id)
    assert err.value.field == "new_head"
    with pytest.raises(ServiceError) as err:
        services.death(
            notification=note("2026-05-01", "2026-05-02"),
            person_id=head.person_id,
            new_head_id=wife.person_id,
        )
    assert err.value.field == f"relations[{son.person_id}]"
    assert latest(head.person_id).status == ResidentStatus.RESIDENT
    result = services.death(
        notification=note("2026-05-01", "2026-05-02"),
        person_id=head.person_id,
        new_head_id=wife.person_id,
        relations={son.person_id: "子"},
    )
    assert latest(head.person_id).status == ResidentStatus.DECEASED
    assert latest(head.person_id).removed_reason == "死亡"
    assert latest(wife.person_id).is_head and latest(wife.person_id).relation == "世帯主"
    assert latest(son.person_id).head_name == "髙橋　花子"
    event = OutboxEvent.objects.get(type="resident.died")
    states = {p["person_id"]: p for p in event.payload["persons"]}
    assert states[wife.person_id]["before"]["is_head"] is False
    assert states[wife.person_id]["after"]["is_head"] is True
    assert len(result.records) == 3


def test_move_out_then_confirmation(family) -> None:
    head, wife, son = family.records
    services.move_out(
        notification=note("2026-06-30", "2026-06-20"),
        person_ids=[head.person_id, wife.person_id, son.person_id],
        destination="横浜市中区本町1-1",
    )
    rec = latest(son.person_id)
    assert rec.status == ResidentStatus.MOVED_OUT and rec.destination_planned == "横浜市中区本町1-1"
    confirmed = services.move_out_confirm(
        person_id=son.person_id,
        destination="横浜市中区本町1-1-101",
        moved_out_on=FuzzyDate("2026-07-01"),
        notice_on=date(2026, 7, 10),
    )
    rec = latest(son.person_id)
    assert rec.destination_confirmed == "横浜市中区本町1-1-101" and rec.moved_out_on == "2026-07-01"
    assert confirmed.movement.get_kind_display() == "転出確定"
    with pytest.raises(ServiceError, match="転出（予定）の住民にだけ"):
        services.move_out_confirm(
            person_id=son.person_id,
            destination="x",
            moved_out_on=FuzzyDate("2026-07-01"),
            notice_on=date(2026, 7, 10),
        )
    with pytest.raises(ServiceError, match="すでに転出者です"):
        services.move_out(
            notification=note("2026-07-01", "2026-06-20"),
            person_ids=[son.person_id],
            destination="x",
        )


def test_relocation_of_the_whole_household_keeps_its_number(family) -> None:
    head = family.records[0]
    services.relocation(
        notification=note("2026-05-01", "2026-05-03"),
        person_ids=ids(family),
        address=Address(town="堀内", block="2番地"),
    )
    rows = [latest(pid) for pid in ids(family)]
    assert {r.household_number for r in rows} == {head.household_number}
    assert {r.address_town for r in rows} == {"堀内"}
    assert {r.address_set_on for r in rows} == {"2026-05-01"}


def test_relocation_of_part_forms_a_new_household(family) -> None:
    head, _wife, son = family.records
    services.relocation(
        notification=note("2026-05-01", "2026-05-03"),
        person_ids=[son.person_id],
        address=Address(town="長柄"),
        new_head_id=son.person_id,
    )
    moved = latest(son.person_id)
    assert moved.household_number != head.household_number and moved.is_head
    assert latest(head.person_id).household_number == head.household_number


def test_separation_and_merge(family) -> None:
    head, _wife, son = family.records
    services.household_separation(
        notification=note("2026-05-01", "2026-05-03"),
        person_ids=[son.person_id],
        new_head_id=son.person_id,
    )
    separated = latest(son.person_id)
    assert separated.is_head and separated.address_town == "一色"
    with pytest.raises(ServiceError, match="世帯全員を分離"):
        services.household_separation(
            notification=note("2026-05-02", "2026-05-03"),
            person_ids=[son.person_id],
            new_head_id=son.person_id,
        )
    services.household_merge(
        notification=note("2026-05-10", "2026-05-11"),
        person_ids=[son.person_id],
        target_household_number=head.household_number,
        relations={son.person_id: "子"},
    )
    merged = latest(son.person_id)
    assert merged.household_number == head.household_number and not merged.is_head
    assert merged.household_order == 3  # after the two who stayed


def test_head_change_and_relation_chains(family) -> None:
    head, wife, son = family.records
    services.household_restructure(
        notification=note("2026-05-01", "2026-05-02"),
        household_number=head.household_number,
        new_head_id=son.person_id,
        relations={head.person_id: "父", wife.person_id: "母"},
        kind=services.MovementKind.HEAD_CHANGE,
    )
    assert latest(son.person_id).is_head and latest(head.person_id).relation == "父"
    with pytest.raises(ServiceError, match="4代まで"):
        services.household_restructure(
            notification=note("2026-05-02", "2026-05-03"),
            household_number=head.household_number,
            new_head_id=son.person_id,
            relations={head.person_id: "父", wife.person_id: "母の母の母の母の母"},
        )
    services.household_restructure(
        notification=note("2026-05-02", "2026-05-03"),
        household_number=head.household_number,
        new_head_id=son.person_id,
        relations={head.person_id: "父", wife.person_id: "父の妻"},
    )
    assert latest(wife.person_id).relation == "父の妻"


def test_family_register_change_and_clerical_correction(family) -> None:
    head, wife, son = family.records
    services.family_register_change(
        notification=note("2026-05-01", "2026-05-01"),
        person_id=wife.person_id,
        changes={"family_name": "鈴木", "name_kana": "スズキ　ハナコ", "former_surname": "髙橋"},
    )
    rec = latest(wife.person_id)
    assert rec.name == "鈴木　花子" and rec.former_surname == "髙橋"
    with pytest.raises(ServiceError) as err:
        services.family_register_change(
            notification=note("2026-05-01", "2026-05-01"),
            person_id=wife.person_id,
            changes={"sex": "1"},
        )
    assert err.value.field == "sex"
    # 誤記修正 of the head's name fixes 世帯主氏名 of every member, retroactively.
    services.clerical_correction(
        person_id=head.person_id, changes={"given_name": "市郎"}, reason="入力誤り"
    )
    assert latest(son.person_id).head_name == "髙橋　市郎"
    as_of = selectors.person_as_of(person_id=head.person_id, on=date(2026, 4, 2), purpose="t")
    assert as_of is not None and as_of.name == "髙橋　市郎"


def test_cancellation_restores_the_previous_state_exactly(family) -> None:
    head, wife, son = family.records
    before = {pid: latest(pid).snapshot() for pid in ids(family)}
    death = services.death(
        notification=note("2026-05-01", "2026-05-02"),
        person_id=head.person_id,
        new_head_id=wife.person_id,
        relations={son.person_id: "子"},
    )
    cancel = services.cancel_movement(movement_number=death.movement.number, reason="届出誤り")
    for pid in ids(family):
        assert latest(pid).snapshot() == before[pid]
    assert all(r.cancelled for r in ResidentRecord.objects.filter(movement=death.movement))
    death.movement.refresh_from_db()
    assert death.movement.cancelled_by == cancel.movement
    with pytest.raises(ServiceError, match="すでに取り消されています"):
        services.cancel_movement(movement_number=death.movement.number, reason="再")
    # As of any date the registry shows the family alive again.
    on = selectors.household_as_of(
        household_number=head.household_number, on=date(2026, 5, 5), purpose="t"
    )
    assert [r.person_id for r in on] == ids(family)


def test_only_the_latest_movement_can_be_cancelled(family) -> None:
    head = family.records[0]
    services.relocation(
        notification=note("2026-05-01", "2026-05-03"),
        person_ids=ids(family),
        address=Address(town="堀内"),
    )
    with pytest.raises(ServiceError, match="後の異動から取り消してください"):
        services.cancel_movement(movement_number=family.movement.number, reason="誤り")
    assert latest(head.person_id).address_town == "堀内"


def test_cancelling_a_move_in_removes_the_persons(family) -> None:
    services.cancel_movement(movement_number=family.movement.number, reason="二重登録")
    for pid in ids(family):
        rec = latest(pid)
        assert rec.status == ResidentStatus.REMOVED and rec.removed_reason == "異動の取消し"
    assert (
        selectors.household_as_of(
            household_number=family.records[0].household_number, on=date(2026, 4, 2), purpose="t"
        )
        == []
    )


def test_as_of_queries(family) -> None:
    head, wife, son = family.records
    services.relocation(
        notification=note("2026-05-01", "2026-05-03"),
        person_ids=ids(family),
        address=Address(town="堀内"),
    )
    services.death(notification=note("2026-06-01", "2026-06-02"), person_id=son.person_id)
    hh = head.household_number
    assert selectors.household_as_of(household_number=hh, on=date(2026, 3, 31), purpose="t") == []
    april = selectors.household_as_of(household_number=hh, on=date(2026, 4, 15), purpose="t")
    assert [r.address_town for r in april] == ["一色"] * 3
    may = selectors.household_as_of(household_number=hh, on=date(2026, 5, 15), purpose="t")
    assert [r.address_town for r in may] == ["堀内"] * 3
    june = selectors.household_as_of(household_number=hh, on=date(2026, 6, 15), purpose="t")
    assert [r.person_id for r in june] == [head.person_id, wife.person_id]
    everyone = selectors.residents_as_of(on=date(2026, 4, 15), purpose="t", towns=["一色"])
    assert everyone.count() == 3


def test_search_is_variant_insensitive(family) -> None:
    q = selectors.SearchQuery
    by_name = selectors.person_search(query=q(name="高橋"), purpose="窓口")
    assert len(by_name) == 3
    assert len(selectors.person_search(query=q(kana="たかはし　いち"), purpose="窓口")) == 1
    assert len(selectors.person_search(query=q(birth_date="2012-04-02"), purpose="窓口")) == 1
    assert len(selectors.person_search(query=q(address="一色 1234"), purpose="窓口")) == 3
    # 住所 words are prefixes of 町字, 番地 or 方書: 234 is not the beginning of 1234番地.
    assert selectors.person_search(query=q(address="一色 234"), purpose="窓口") == []
    assert len(selectors.person_search(query=q(address="一"), purpose="窓口")) == 3
    assert selectors.person_search(query=q(name="高田"), purpose="窓口") == []
    with pytest.raises(ServiceError, match="検索条件"):
        selectors.person_search(query=q(), purpose="窓口")
    search = AuditEvent.objects.filter(target_type="resident_search").first()
    assert search is not None and search.detail["hits"] == 3


def test_my_number_is_unique_and_findable(family) -> None:
    head = family.records[0]
    found = selectors.person_by_my_number(my_number="621498320257", purpose="課税資料の名寄せ")
    assert found is not None and found.person_id == head.person_id
    with pytest.raises(ServiceError, match="別の住民"):
        services.move_in(
            notification=note(),
            previous_address="x",
            address=Address(town="堀内"),
            members=[
                person(
                    "佐藤",
                    "一",
                    "サトウ　ハジメ",
                    "1990-01-01",
                    "1",
                    "世帯主",
                    my_number="621498320257",
                )
            ],
        )


def test_qualification_marks_and_authority_removal(family) -> None:
    head, wife, son = family.records
    services.qualification_set(
        person_id=wife.person_id,
        qualification="health_insurance",
        value={"since": "2026-04-01"},
        purpose="国保資格取得",
    )
    assert latest(wife.person_id).qualifications == {"health_insurance": {"since": "2026-04-01"}}
    with pytest.raises(ServiceError, match="資格"):
        services.qualification_set(
            person_id=wife.person_id, qualification="pet", value={}, purpose="x"
        )
    services.authority_removal(
        notification=note("2026-06-01", "2026-06-01"),
        person_ids=[son.person_id],
        reason="実態調査により居住の事実なし",
    )
    rec = latest(son.person_id)
    assert rec.status == ResidentStatus.REMOVED and "実態調査" in rec.removed_reason
    with pytest.raises(ServiceError) as err:
        services.authority_removal(
            notification=note("2026-06-01", "2026-06-01"), person_ids=[head.person_id], reason=" "
        )
    assert err.value.field == "reason"


def test_resident_copy_is_a_signed_numbered_pdf_with_chosen_items(family) -> None:
    from moyai.documents.selectors import document_verify

    head, wife, son = family.records
    result = services.resident_copy_issue(
        person_ids=[head.person_id],
        whole_household=True,
        options=services.CopyOptions(domicile=True, relation=True),
        purpose="銀行口座開設",
        requester="本人",
    )
    assert result.persons == [head.person_id, wife.person_id, son.person_id]
    text = pdf_text(result.pdf)
    for expected in (
        "住民票の写し",
        "世帯全員",
        "翔",
        "昭和55年5月10日",
        "平成24年4月2日",
        "東京都千代田区千代田1番",
        "世帯主",
        "妻",
        result.serial,
        "この写しは、世帯全員の住民票の原本と相違ないことを証明する。",
    ):
        assert expected in text, expected
    assert "621498320257" not in text  # 個人番号 only on request
    assert document_verify(serial=result.serial, pdf=result.pdf).genuine
    prints = AuditEvent.objects.filter(action="print", target_type="person")
    assert sorted(int(a.target_id) for a in prints) == sorted(result.persons)

    only_son = services.resident_copy_issue(
        person_ids=[son.person_id],
        whole_household=False,
        options=services.CopyOptions(my_number=False),
        purpose="就学",
        requester="同一世帯員",
    )
    text = pdf_text(only_son.pdf)
    assert "翔" in text and "花子" not in text
    assert "本籍・筆頭者の記載は省略" in text and "東京都千代田区千代田1番" not in text


def test_resident_copy_refusals(family) -> None:
    head = family.records[0]
    with pytest.raises(ServiceError) as err:
        services.resident_copy_issue(
            person_ids=[head.person_id],
            whole_household=True,
            options=services.CopyOptions(my_number=True),
            purpose="提出",
            requester="代理人",
        )
    assert err.value.field == "my_number"
    with pytest.raises(ServiceError) as err:
        services.resident_copy_issue(
            person_ids=[head.person_id],
            whole_household=True,
            options=services.CopyOptions(),
            purpose=" ",
            requester="本人",
        )
    assert err.value.field == "purpose"
    assert not AuditEvent.objects.filter(action="print").exists()


def test_removed_copy_for_a_person_who_moved_out(family) -> None:
    head, wife, son = family.records
    services.move_out(
        notification=note("2026-06-30", "2026-06-20"),
        person_ids=[head.person_id, wife.person_id, son.person_id],
        destination="横浜市中区本町1-1",
    )
    result = services.resident_copy_issue(
        person_ids=[son.person_id],
        whole_household=False,
        options=services.CopyOptions(),
        purpose="手続",
        requester="本人",
    )
    text = pdf_text(result.pdf)
    assert "除票の写し" in text and "転出" in text and "横浜市中区本町1-1" in text


def test_item_certificate_certifies_only_the_chosen_items(family) -> None:
    head = family.records[0]
    result = services.item_certificate_issue(
        person_id=head.person_id,
        items=["name", "birth", "address"],
        purpose="年金の手続",
        requester="本人",
    )
    text = pdf_text(result.pdf)
    assert "住民票記載事項証明書" in text and "昭和55年5月10日" in text
    assert "上記の事項は、住民票に記載されていることを証明する。" in text
    assert "東京都千代田区千代田1番" not in text  # 本籍 was not chosen
    with pytest.raises(ServiceError) as err:
        services.item_certificate_issue(
            person_id=head.person_id, items=["my_number"], purpose="x", requester="本人"
        )
    assert err.value.field == "items"


def test_search_keys_can_be_recomputed(family) -> None:
    from moyai.platform.models import Municipality

    head = family.records[0]
    ResidentRecord.objects.filter(pk=head.pk).update(name_key="STALE")
    town = Municipality.objects.get(pk=head.municipality_id)
    assert services.search_keys_refresh(municipality=town) == 1
    assert ResidentRecord.objects.get(pk=head.pk).name_key.startswith("高橋")
    assert services.search_keys_refresh(municipality=town) == 0


def test_prefix_search_escapes_wildcards(family) -> None:
    q = selectors.SearchQuery
    assert selectors.person_search(query=q(kana="%"), purpose="t") == []
    assert selectors.person_search(query=q(name="_"), purpose="t") == []
    assert len(selectors.person_search(query=q(kana="タカ"), purpose="t")) == 3
