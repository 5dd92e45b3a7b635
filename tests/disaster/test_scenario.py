"""The flood scenario end to end: the ledger from the registries as of the day before, surveys
and a 再調査, the り災証明書, the support amounts to the yen, shelters, 異動 after the flood and
the 抜け・漏れ・落ち report."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from moyai.disaster import selectors, services
from moyai.disaster.models import (
    Application,
    CertificateIssue,
    Disaster,
    Dwelling,
    Programme,
    Safety,
    Victim,
    VictimHousehold,
    VictimStatus,
)
from moyai.platform.audit import Actor, acting_as
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent
from moyai.platform.outbox import dispatch_tenant
from moyai.registry import services as registry
from moyai.registry.rules import FuzzyDate
from moyai.registry.services import Notification
from tests.tax.property_fixtures import pdf_text

from .scenario import FLOOD_ON, TOWNS, build_town

pytestmark = pytest.mark.django_db


@pytest.fixture
def flood(town_a, in_town):
    with in_town(town_a):
        town = build_town()
        disaster = services.disaster_register(
            code="R8-豪雨-001",
            name="令和8年10月豪雨",
            kind="豪雨（洪水）",
            occurred_on=FLOOD_ON,
            towns=TOWNS,
            municipalities=["143219"],
            relief_act_on=FLOOD_ON,
            support_act_on=FLOOD_ON + timedelta(days=3),
        )
        result = services.ledger_build(disaster_id=disaster.pk)
    return town, disaster, result


def _household(town, key: str) -> VictimHousehold:
    victim = Victim.objects.get(person_id=town.persons[key][0])
    return VictimHousehold.objects.get(pk=victim.household_id)


def test_ledger_is_built_from_the_registries_as_of_the_day_before(town_a, in_town, flood):
    town, disaster, result = flood
    with in_town(town_a):
        assert disaster.baseline_on == date(2026, 10, 9)
        assert disaster.municipalities == ["143014", "143219"]
        in_ledger = set(Victim.objects.values_list("person_id", flat=True))
        expected = {pid for k in ("h1", "h2", "h3", "h4", "h5", "h7") for pid in town.persons[k]}
        assert in_ledger == expected  # not 木古庭, not the late mover, not the deceased
        assert (result.households, result.victims) == (6, 11)
        numbers = list(VictimHousehold.objects.order_by("number").values_list("number", flat=True))
        assert numbers == [1, 2, 3, 4, 5, 6]  # one り災番号 per household
        h1 = _household(town, "h1")
        assert (h1.head_name, h1.members, h1.address) == (
            "山田　太郎",
            3,
            "神奈川県葉山町一色1番地",
        )
        members = {v.name: v for v in Victim.objects.filter(household=h1)}
        assert members["山田　花子"].birth_date == "1972-08-15"
        assert members["山田　花子"].sex == "2"
        assert members["山田　花子"].relation == "妻"
        assert members["山田　翔"].relation == "子"
        # h3 and h4 live in one 住家 (same 番地, different 方書)
        assert _household(town, "h3").dwelling_id == _household(town, "h4").dwelling_id
        # 家屋: the owner's home joins its 住家; houses of owners elsewhere are 住家 of their own
        home = Dwelling.objects.get(pk=h1.dwelling_id)
        assert (home.house_number, home.owner_name, home.owner_elsewhere) == (
            "1番1",
            "山田　太郎",
            False,
        )
        elsewhere = {
            (d.house_number, d.owner_name) for d in Dwelling.objects.filter(owner_elsewhere=True)
        }
        assert elsewhere == {("8番8", "渡辺　淳"), ("9番9", "架空　次郎")}
        assert result.owners_elsewhere == 2
        assert result.dwellings == 7  # 6 addresses (h3/h4 share) … 5 + 2 houses of others
        # 要配慮者: 高齢者 and 乳幼児 from the registry
        assert Victim.objects.get(person_id=town.persons["h7"][0]).care_reason == "高齢者"
        assert Victim.objects.get(person_id=town.persons["h4"][1]).care_reason == "乳幼児"
        # the registry extract and the build are audited
        assert AuditEvent.objects.filter(target_type="registry_extract").exists()
        assert (
            AuditEvent.objects.filter(target_type="disaster_ledger", action="create").count() == 1
        )
        with pytest.raises(ServiceError, match="すでに作成"):
            services.ledger_build(disaster_id=disaster.pk)


def _survey(town, key, ratio, kind="first", **kw):
    h = _household(town, key)
    return services.survey_record(
        dwelling_id=h.dwelling_id,
        kind=kind,
        method="site",
        surveyed_on=date(2026, 10, 15),
        ratio=ratio,
        **kw,
    )


def test_surveys_resurvey_and_certificate(town_a, in_town, flood):
    town, _disaster, _ = flood
    with in_town(town_a):
        s = _survey(town, "h5", "15.0")
        assert s.level == "semi_half"
        with pytest.raises(ServiceError, match="申出者と理由"):
            _survey(town, "h5", "22.0", kind="resurvey")
        again = _survey(
            town,
            "h5",
            "22.0",
            kind="resurvey",
            requested_by="田中　修",
            reason="内壁の損傷を追加で確認",
        )
        assert (again.seq, again.level) == (2, "half")
        detail = selectors.household_get(household_id=_household(town, "h5").pk)
        assert [(x.seq, x.get_level_display()) for x in detail.surveys] == [
            (1, "準半壊"),
            (2, "半壊"),
        ]
        assert Dwelling.objects.get(pk=detail.household.dwelling_id).level == "half"

        with pytest.raises(ServiceError, match="調査の結果がない"):
            services.certificate_issue(
                household_id=_household(town, "h7").pk,
                kind="damage",
                requester="伊藤　静",
                purpose="保険の請求",
            )
        assert not CertificateIssue.objects.exists()
        _survey(town, "h1", "55.0")
        issued = services.certificate_issue(
            household_id=_household(town, "h1").pk,
            kind="damage",
            requester="山田　太郎",
            purpose="被災者生活再建支援金の申請",
        )
        text = pdf_text(issued.pdf)
        for expected in (
            "り災証明書",
            "全壊",
            "山田太郎",
            "令和8年10月10日",
            "一色1番地",
            "R8-豪雨-001-000001",
        ):
            assert expected in text, expected
        from moyai.documents.selectors import document_verify

        check = document_verify(serial=issued.serial, pdf=issued.pdf)
        assert (check.genuine, check.unaltered, check.kind_label) == (True, True, "り災証明書")
        assert not document_verify(serial=issued.serial, pdf=issued.pdf + b"x").genuine
        row = CertificateIssue.objects.get()
        assert (row.serial, row.level, row.kind) == (issued.serial, "total", "damage")
        victim_cert = services.certificate_issue(
            household_id=_household(town, "h2").pk,
            kind="victim",
            requester="鈴木　一郎",
            purpose="勤務先への届出",
            content="自家用車（床上浸水による水没）",
        )
        assert "被災証明書" in pdf_text(victim_cert.pdf)
        assert "自家用車" in pdf_text(victim_cert.pdf)


def _apply(programme_code, town, key, **kw):
    programme = Programme.objects.get(code=programme_code)
    return services.application_submit(
        programme_id=programme.pk,
        household_id=_household(town, key).pk,
        applied_on=date(2026, 11, 1),
        **kw,
    )


def test_support_amounts_payments_and_the_gap_report(town_a, in_town, flood):
    town, disaster, _ = flood
    with in_town(town_a):
        _survey(town, "h1", "55.0")  # 全壊
        _survey(town, "h2", "42.0")  # 大規模半壊 (one person)
        _survey(town, "h3", "35.0")  # 中規模半壊 (h3 and h4)
        _survey(town, "h5", "15.0")
        _survey(town, "h5", "22.0", kind="resurvey", requested_by="田中　修", reason="再確認")
        basic = Programme.objects.get(code="support_basic")
        additional = Programme.objects.get(code="support_additional")
        assert basic.deadline == date(2027, 11, 9)  # 13月
        assert additional.deadline == date(2029, 11, 9)  # 37月
        services.programme_define(
            disaster_id=disaster.pk,
            code="gienkin-1",
            name="義援金（第1次配分）",
            kind="donation",
            config={
                "unit": "dwelling",
                "amounts": {
                    "全壊": 350000,
                    "大規模半壊": 180000,
                    "中規模半壊": 180000,
                    "半壊": 180000,
                    "準半壊": 50000,
                },
            },
        )
        services.programme_define(
            disaster_id=disaster.pk,
            code="own-1",
            name="町独自の住宅再建支援金",
            kind="own",
            config={
                "unit": "household",
                "amounts": {"全壊": 300000, "大規模半壊": 200000},
                "single_factor": "3/4",
            },
        )
        with pytest.raises(ServiceError) as bad:
            services.programme_define(
                disaster_id=disaster.pk,
                code="x",
                name="x",
                kind="own",
                config={"amounts": {"全損": 1}},
            )
        assert bad.value.field == "config.amounts"

        account = {
            "bank_code": "0001",
            "branch_code": "001",
            "account_type": "1",
            "account_number": "1234567",
            "account_holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ",
        }
        a1 = _apply("support_basic", town, "h1", **account)
        a1b = _apply("support_additional", town, "h1", method="build")
        a2 = _apply(
            "support_basic",
            town,
            "h2",
            bank_code="0005",
            branch_code="123",
            account_type="1",
            account_number="7654321",
            account_holder_kana="ｽｽﾞｷ ｲﾁﾛｳ",
        )
        a1d = _apply("gienkin-1", town, "h1", **account)
        with pytest.raises(ServiceError, match="重複"):
            _apply("support_basic", town, "h1")
        with pytest.raises(ServiceError, match="再建方法"):
            _apply("support_additional", town, "h2")

        d1 = services.application_decide(
            application_id=a1.pk, approve=True, decided_on=date(2026, 11, 10)
        )
        d2 = services.application_decide(
            application_id=a2.pk, approve=True, decided_on=date(2026, 11, 10)
        )
        dd = services.application_decide(
            application_id=a1d.pk, approve=True, decided_on=date(2026, 11, 10)
        )
        assert (d1.amount, d1.category) == (1_000_000, "total")
        assert (d2.amount, d2.category) == (375_000, "large_half")  # 50万 × 3/4
        assert dd.amount == 350_000
        # what h1 will get for building: 100万 + 200万 = 300万 (exact to the yen)
        facts = services.household_facts([_household(town, "h1")])
        assert (
            services.entitlement(additional, facts[_household(town, "h1").pk], method="build")
            == 2_000_000
        )
        assert a1b.status == "applied"

        name, csv_bytes = services.payment_file(programme_id=basic.pk)
        assert name.startswith("振込データ_support_basic_")
        lines = csv_bytes.decode("utf-8-sig").splitlines()
        assert lines[0].split(",")[0] == "り災番号"
        assert lines[1:] == [
            f"000001,山田　太郎,{basic.name},0001,001,1,1234567,ﾔﾏﾀﾞ ﾀﾛｳ,1000000",
            f"000002,鈴木　一郎,{basic.name},0005,123,1,7654321,ｽｽﾞｷ ｲﾁﾛｳ,375000",
        ]
        services.payment_record(application_ids=[a2.pk, a1d.pk], paid_on=date(2026, 11, 20))
        with pytest.raises(ServiceError, match="支給決定されていません"):
            services.payment_record(application_ids=[a1b.pk], paid_on=date(2026, 11, 20))
        assert Application.objects.get(pk=a1b.pk).status == "applied"  # nothing half-written

        # 安否: h2 confirmed safe, h1's adults in a shelter; the rest are not located yet
        services.safety_set(
            victim_id=Victim.objects.get(person_id=town.persons["h2"][0]).pk, safety="safe"
        )
        shelter = services.shelter_open(
            disaster_id=disaster.pk,
            name="一色小学校",
            address="一色2000番地",
            capacity=10,
            opened_on=FLOOD_ON,
        )
        for pid in town.persons["h1"][:2]:
            services.shelter_check_in(
                shelter_id=shelter.pk, victim_id=Victim.objects.get(person_id=pid).pk
            )

        report = selectors.gap_report(disaster=disaster, today=date(2026, 11, 30))
        got = {(r.programme.code, r.household.number, r.status, r.entitled) for r in report.rows}
        n = {k: _household(town, k).number for k in ("h1", "h2", "h3", "h4", "h5")}
        assert got == {
            ("support_basic", n["h1"], "未払", 1_000_000),
            ("support_additional", n["h1"], "未決定", 2_000_000),
            ("support_additional", n["h2"], "未申請", 375_000),  # 賃借 50万 × 3/4 at least
            ("support_additional", n["h3"], "未申請", 250_000),  # 中規模半壊 賃借 25万
            ("support_additional", n["h4"], "未申請", 250_000),
            ("gienkin-1", n["h2"], "未申請", 180_000),
            ("gienkin-1", n["h3"], "未申請", 180_000),  # per 住家: h3 only, not h4
            ("gienkin-1", n["h5"], "未申請", 180_000),  # 半壊 after the 再調査
            ("own-1", n["h1"], "未申請", 300_000),
            ("own-1", n["h2"], "未申請", 150_000),  # 20万 × 3/4
        }
        unlocated = {v.person_id for v in report.unlocated}
        assert unlocated == {
            town.persons["h1"][2],
            *town.persons["h3"],
            *town.persons["h4"],
            *town.persons["h5"],
            *town.persons["h7"],
        }
        assert report.counts == {"未払": 1, "未決定": 1, "未申請": 8, "所在未確認": 8}


def test_later_movements_update_the_ledger_through_the_event_consumer(town_a, in_town, flood):
    town, disaster, _ = flood
    with in_town(town_a):
        son = town.persons["h1"][2]
        registry.move_out(
            notification=Notification(FuzzyDate("2026-10-20"), date(2026, 10, 20)),
            person_ids=[son],
            destination="東京都新宿区西新宿2-8-1",
        )
        h3 = _household(town, "h3")
        registry.birth(
            notification=Notification(FuzzyDate("2026-11-01"), date(2026, 11, 5)),
            household_number=h3.household_number,
            child=registry.NewPerson(
                family_name="佐藤",
                given_name="新",
                name_kana="サトウ　アラタ",
                birth=FuzzyDate("2026-11-01"),
                sex="1",
                relation="子",
            ),
        )
    with acting_as(Actor(username="task:dispatch", channel="task", municipality_code="143014")):
        stats = dispatch_tenant(town_a)
    assert stats.per_consumer["disaster.ledger"] >= 2  # earlier 異動 change nothing
    with in_town(town_a):
        moved = Victim.objects.get(person_id=son)
        assert moved.status == VictimStatus.MOVED_OUT
        assert moved.residence == "東京都新宿区西新宿2-8-1"
        assert Victim.objects.filter(household=h3).count() == 3
        assert Victim.objects.get(name="佐藤　新").care_reason == "乳幼児"
        # idempotent: an explicit refresh finds nothing more to do
        assert services.ledger_refresh(disaster_id=disaster.pk) == services.RefreshResult(0, 0)


def test_shelter_check_in_out_occupancy_and_safety_inquiry(town_a, in_town, flood):
    town, disaster, _ = flood
    with in_town(town_a):
        shelter = services.shelter_open(
            disaster_id=disaster.pk,
            name="堀内公民館",
            address="堀内100番地",
            capacity=2,
            opened_on=FLOOD_ON,
        )
        found = selectors.victim_find(disaster=disaster, kana="さとう", purpose="避難所の受付")
        assert {v.name for v in found} == {"佐藤　健", "佐藤　恵"}
        found = selectors.victim_find(
            disaster=disaster, name="髙橋", birth_date="2022-01-10", purpose="避難所の受付"
        )
        assert [v.name for v in found] == ["髙橋　𠮷子"]
        ken, megumi = (Victim.objects.get(person_id=p) for p in town.persons["h3"])
        day1 = datetime.fromisoformat("2026-10-10T20:00:00+09:00")
        stay = services.shelter_check_in(shelter_id=shelter.pk, victim_id=ken.pk, at=day1)
        services.shelter_check_in(shelter_id=shelter.pk, victim_id=megumi.pk, at=day1, consent=True)
        with pytest.raises(ServiceError, match="満員"):
            services.shelter_check_in(shelter_id=shelter.pk, name="旅行者　一人")
        with pytest.raises(ServiceError, match="すでに避難所"):
            services.shelter_check_in(shelter_id=shelter.pk, victim_id=ken.pk)
        services.shelter_check_out(
            stay_id=stay.pk, destination="親戚宅（横須賀市）", at=day1 + timedelta(days=2)
        )
        days = selectors.occupancy(
            disaster=disaster, start=date(2026, 10, 9), end=date(2026, 10, 13)
        )
        assert [(d.isoformat(), n) for d, n in days[0].days] == [
            ("2026-10-09", 0),
            ("2026-10-10", 2),
            ("2026-10-11", 2),
            ("2026-10-12", 2),
            ("2026-10-13", 1),
        ]
        assert days[0].present == 1
        assert Victim.objects.get(pk=ken.pk).safety == Safety.SAFE
        assert Victim.objects.get(pk=ken.pk).residence == "親戚宅（横須賀市）"

        ask = dict(disaster=disaster, inquirer_name="佐藤　一郎", reason="家族の安否の確認")
        friend = selectors.safety_inquiry(
            name="佐藤　健", birth_date="1985-03-03", inquirer="other", **ask
        )
        assert (friend.found, friend.injury, friend.whereabouts) == (True, None, None)
        relative = selectors.safety_inquiry(
            name="佐藤　健", birth_date="1985-03-03", inquirer="relative", **ask
        )
        assert relative.injury == "負傷・疾病の情報なし" and relative.whereabouts is None
        cohabiting = selectors.safety_inquiry(
            name="佐藤　健", birth_date="1985-03-03", inquirer="cohabiting", **ask
        )
        assert cohabiting.whereabouts == "親戚宅（横須賀市）"
        consented = selectors.safety_inquiry(
            name="佐藤　恵", birth_date="1987-07-07", inquirer="other", **ask
        )
        assert consented.whereabouts == "堀内公民館（避難所）"  # she agreed to disclosure
        assert (
            AuditEvent.objects.filter(purpose="安否情報の照会への回答（第86条の15）").count() == 4
        )


def test_an_area_given_by_addresses(town_a, in_town) -> None:
    with in_town(town_a):
        town = build_town()
        disaster = services.disaster_register(
            code="R8-土砂-001",
            name="土砂災害",
            kind="土砂災害",
            occurred_on=FLOOD_ON,
            towns=[],
            addresses=["堀内 3番地", "長柄　9"],
        )
        assert disaster.addresses == [["堀内", "3番地"], ["長柄", "9"]]
        result = services.ledger_build(disaster_id=disaster.pk)
        assert set(Victim.objects.values_list("person_id", flat=True)) == {
            *town.persons["h3"],
            *town.persons["h4"],
        }
        # 長柄 is affected only at 9…: the 住登外 owner's house 9番9 is in, 5番1 (田中) is not
        houses = set(
            Dwelling.objects.exclude(house_number="").values_list("house_number", flat=True)
        )
        assert houses == {"9番9"}
        assert (result.households, result.dwellings) == (2, 2)
        with pytest.raises(ServiceError) as bad:
            services.disaster_register(
                code="x", name="x", kind="x", occurred_on=FLOOD_ON, towns=[], addresses=["堀内"]
            )
        assert bad.value.field == "addresses"


def test_income_for_tax_reduction_comes_from_the_resident_tax(town_a, in_town) -> None:
    from moyai.tax.resident.models import Assessment

    with in_town(town_a):
        town = build_town()
        for key, income, total in (("h1", 4_000_000, 123_457), ("h2", 6_000_000, 100_001)):
            for fiscal_year, current in ((2025, True), (2026, False), (2026, True)):
                Assessment.objects.create(
                    person_id=town.persons[key][0],
                    fiscal_year=fiscal_year,
                    seq=2 if (fiscal_year, current) == (2026, True) else 1,
                    is_current=current,
                    reason="initial",
                    params_id=1,
                    inputs={},
                    digest="x",
                    total_income=income if current else 1,
                    taxable_income=0,
                    city_income_levy=0,
                    pref_income_levy=0,
                    city_per_capita=0,
                    pref_per_capita=0,
                    forest_tax=0,
                    total=total if current else 9,
                    collection="ordinary",
                    created_by="test",
                )
        disaster = services.disaster_register(
            code="R8-001",
            name="豪雨",
            kind="豪雨",
            occurred_on=FLOOD_ON,
            towns=TOWNS,
        )
        services.ledger_build(disaster_id=disaster.pk)
        head = Victim.objects.get(person_id=town.persons["h1"][0])
        assert (head.income, head.resident_tax, head.tax_year) == (4_000_000, 123_457, 2026)
        assert Victim.objects.get(person_id=town.persons["h1"][1]).income is None
        _survey(town, "h1", "55.0")  # 全壊, 合計所得 500万以下: 全部
        _survey(town, "h2", "42.0")  # 大規模半壊, 750万以下: 1/4
        reduction = Programme.objects.get(code="resident_tax")
        amounts = {
            key: dict(
                (p.code, a)
                for p, a in selectors.household_get(
                    household_id=_household(town, key).pk
                ).entitlements
            )["resident_tax"]
            for key in ("h1", "h2", "h3")
        }
        assert amounts == {"h1": 123_457, "h2": 25_000, "h3": 0}
        application = services.application_submit(
            programme_id=reduction.pk,
            household_id=_household(town, "h2").pk,
            applied_on=date(2026, 11, 1),
        )
        decided = services.application_decide(
            application_id=application.pk, approve=True, decided_on=date(2026, 11, 2)
        )
        assert (decided.amount, decided.category) == (25_000, "")


def test_one_disaster_over_two_municipalities_is_one_record_in_each(town_a, town_b, in_town):
    for town, towns in ((town_a, ["一色"]), (town_b, ["宮山"])):
        with in_town(town):
            services.disaster_register(
                code="R8-広域-001",
                name="令和8年10月豪雨",
                kind="豪雨",
                occurred_on=FLOOD_ON,
                towns=towns,
                municipalities=["143014", "143219"],
            )
    with in_town(town_a):
        mine = Disaster.objects.get()
        assert (mine.code, mine.towns, mine.municipalities) == (
            "R8-広域-001",
            ["一色"],
            ["143014", "143219"],
        )
        with pytest.raises(ServiceError, match="すでに登録"):
            services.disaster_register(
                code="R8-広域-001", name="x", kind="x", occurred_on=FLOOD_ON, towns=["堀内"]
            )
        assert Disaster.objects.count() == 1
    with in_town(town_b):
        assert Disaster.objects.get().towns == ["宮山"]


def test_the_build_is_set_based(town_a, in_town, django_assert_max_num_queries) -> None:
    """The number of statements does not grow with the households (bulk reads and inserts)."""
    with in_town(town_a):
        build_town()
        disaster = services.disaster_register(
            code="Q-1", name="豪雨", kind="豪雨", occurred_on=FLOOD_ON, towns=TOWNS
        )
        with django_assert_max_num_queries(25):
            result = services.ledger_build(disaster_id=disaster.pk)
        assert result.victims == 11
