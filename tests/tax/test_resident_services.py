"""個人住民税 end to end below the screens: 支払報告書 → 名寄せ → 賦課 → 更正 → 説明 → 試算."""

from __future__ import annotations

import io
from datetime import date

import pytest

from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent
from moyai.platform.tenancy import tenant_context
from moyai.registry import services as registry
from moyai.registry.rules import FuzzyDate
from moyai.registry.services import Address, NewPerson, Notification
from moyai.tax.resident import services
from moyai.tax.resident.models import (
    Assessment,
    AssessmentReason,
    Collection,
    MatchStatus,
    TaxDocument,
)
from moyai.tax.resident.synthetic import Employee, salary_file

YEAR = 2026  # 令和8年度 (令和7年分の所得)


def _family(town, in_town):
    with in_town(town):
        return registry.move_in(
            notification=Notification(FuzzyDate("2025-10-01"), date(2025, 10, 3)),
            previous_address="東京都千代田区千代田1-1",
            address=Address(town="一色", block="1234番地"),
            members=[
                NewPerson(
                    family_name="髙橋",
                    given_name="一郎",
                    name_kana="タカハシ　イチロウ",
                    birth=FuzzyDate("1980-05-10"),
                    sex="1",
                    relation="世帯主",
                    my_number="621498320257",
                ),
                NewPerson(
                    family_name="髙橋",
                    given_name="花子",
                    name_kana="タカハシ　ハナコ",
                    birth=FuzzyDate("1982-11-03"),
                    sex="2",
                    relation="妻",
                ),
                NewPerson(
                    family_name="髙橋",
                    given_name="翔",
                    name_kana="タカハシ　ショウ",
                    birth=FuzzyDate("2005-04-02"),
                    sex="1",
                    relation="子",
                ),
            ],
        )


def _file(*employees: Employee) -> io.BytesIO:
    return io.BytesIO(salary_file(employees, income_year=YEAR - 1, municipality_code="143014"))


ICHIRO = Employee(
    "高橋　一郎",  # the employer writes the standard form of 髙
    "タカハシ　イチロウ",
    date(1980, 5, 10),
    "神奈川県三浦郡葉山町一色1234番地",
    my_number="621498320257",
    spouse=True,
    children=(20,),
)
HANAKO = Employee(  # no 個人番号: found by 名寄せ
    "髙橋　花子", "タカハシ　ハナコ", date(1982, 11, 3), "神奈川県三浦郡葉山町一色1234番地"
)
STRANGER = Employee("見本　太郎", "ミホン　タロウ", date(1970, 1, 1), "東京都千代田区")


@pytest.fixture
def imported(town_a, in_town):
    family = _family(town_a, in_town)
    with in_town(town_a):
        result = services.reports_import(
            fiscal_year=YEAR,
            kind="salary",
            stream=_file(ICHIRO, HANAKO, STRANGER),
            file_name="kyuyo.csv",
            dry_run=False,
        )
    return family, result


def test_a_dry_run_reports_and_writes_nothing(town_a, in_town) -> None:
    _family(town_a, in_town)
    with in_town(town_a):
        result = services.reports_import(
            fiscal_year=YEAR,
            kind="salary",
            stream=_file(ICHIRO, HANAKO),
            file_name="kyuyo.csv",
            dry_run=True,
        )
        assert result.ok and not result.written
        assert result.counts == {"my_number": 1, "nayose": 1}
        assert not TaxDocument.objects.exists()


def test_reports_are_matched_by_my_number_or_nayose_and_queued_otherwise(
    town_a, in_town, imported
) -> None:
    family, result = imported
    head, wife, _ = family.records
    assert result.written and result.records == 3 and result.employers >= 1
    assert result.counts == {"my_number": 1, "nayose": 1, "unmatched": 1}
    with in_town(town_a):
        docs = {d.name: d for d in TaxDocument.objects.select_related("person")}
        assert AuditEvent.objects.filter(target_type="resident_tax_documents").exists()
    assert docs["高橋　一郎"].person_id == head.person_id
    assert docs["髙橋　花子"].person_id == wife.person_id
    assert docs["見本　太郎"].match == MatchStatus.UNMATCHED and docs["見本　太郎"].person is None
    assert docs["高橋　一郎"].values["spouse"]["income"] == 0
    assert docs["高橋　一郎"].values["dependants"] == [{"age": 20, "income": 0}]


def test_a_broken_file_is_refused_with_its_lines_named(town_a, in_town) -> None:
    good = salary_file([ICHIRO], income_year=YEAR - 1, municipality_code="143014")
    broken = good.replace(b",315,", b",315,").replace(b"621498320257", b"621498320258")
    with in_town(town_a):
        result = services.reports_import(
            fiscal_year=YEAR,
            kind="salary",
            stream=io.BytesIO(broken),
            file_name="bad.csv",
            dry_run=False,
        )
        assert not result.ok and not result.written
        assert any(p.line == 1 and "個人番号" in p.item for p in result.problems)
        assert not TaxDocument.objects.exists()


def test_the_wrong_income_year_is_refused(town_a, in_town) -> None:
    with in_town(town_a):
        result = services.reports_import(
            fiscal_year=2025,  # wants 令和6年分
            kind="salary",
            stream=_file(ICHIRO),
            file_name="kyuyo.csv",
            dry_run=False,
        )
    assert not result.ok and result.problems[0].item == "年分"


def test_assessment_run_then_rerun_then_correction(town_a, in_town, imported) -> None:
    family, _ = imported
    head, wife, son = family.records
    with in_town(town_a):
        first = services.assessment_run(municipality=town_a, fiscal_year=YEAR, chunk_size=1)
    assert (first.persons, first.written, first.unchanged) == (2, 2, 0)
    with in_town(town_a):
        mine = Assessment.objects.get(person_id=head.person_id)
        assert mine.reason == AssessmentReason.INITIAL and mine.seq == 1
        assert mine.collection == Collection.SPECIAL and mine.employer_id is not None
        assert len(mine.installments) == 12
        assert sum(p["amount"] for p in mine.installments) == mine.total
        june = mine.installments[0]
        assert june["label"] == "6月分" and june["due"] == "2026-07-10"
        assert mine.total == (
            mine.city_income_levy
            + mine.pref_income_levy
            + mine.city_per_capita
            + mine.pref_per_capita
            + mine.forest_tax
        )
        explained = services.explain(mine)
        assert explained.total == mine.total
        assert explained.trace.get("total").amount == mine.total
        # The same description through 試算 gives the same figures.
        assert services.simulate(fiscal_year=YEAR, data=mine.inputs, municipality=town_a).total == (
            mine.total
        )

        again = services.assessment_run(municipality=town_a, fiscal_year=YEAR)
        assert (again.written, again.unchanged) == (0, 2)

        # A late 住民税申告 for the son (part-time work) and a 医療費 claim by the wife.
        services.declaration_record(
            person_id=son.person_id,
            fiscal_year=YEAR,
            values={"salary_revenue": 1_500_000},
            kind="declaration",
        )
        reported = TaxDocument.objects.get(person_id=wife.person_id).values
        services.declaration_record(  # a complete 申告: the report's figures and 医療費
            person_id=wife.person_id,
            fiscal_year=YEAR,
            values={
                **{k: v for k, v in reported.items() if not k.startswith("_")},
                "medical_expenses": {"paid": 400_000},
            },
            kind="declaration",
        )
        third = services.assessment_run(municipality=town_a, fiscal_year=YEAR)
        assert (third.written, third.unchanged) == (2, 1)
        son_tax = Assessment.objects.get(person_id=son.person_id)
        assert son_tax.reason == AssessmentReason.ADDITIONAL  # new after the 当初
        assert son_tax.collection == Collection.ORDINARY and son_tax.total == 44_500
        assert [p["label"] for p in son_tax.installments] == ["第1期", "第2期", "第3期", "第4期"]
        history = list(
            Assessment.objects.filter(person_id=wife.person_id)
            .order_by("seq")
            .values("seq", "is_current", "reason", "total")
        )
        assert [h["seq"] for h in history] == [1, 2]
        assert [h["is_current"] for h in history] == [False, True]
        assert history[1]["total"] < history[0]["total"]


def test_a_correction_keeps_installments_already_due(town_a, in_town, imported, monkeypatch):
    family, _ = imported
    son = family.records[2]
    with in_town(town_a):
        services.declaration_record(
            person_id=son.person_id,
            fiscal_year=YEAR,
            values={"salary_revenue": 3_000_000},
            kind="declaration",
        )
        services.assessment_run(municipality=town_a, fiscal_year=YEAR)
        before = Assessment.objects.get(person_id=son.person_id)
        assert before.collection == Collection.ORDINARY  # no employer collects for him
        monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: date(2026, 9, 15))
        services.declaration_record(
            person_id=son.person_id,
            fiscal_year=YEAR,
            values={"salary_revenue": 4_000_000},
            kind="declaration",
        )
        after = services.assessment_correct(
            person_id=son.person_id, fiscal_year=YEAR, note="申告の修正"
        )
    assert after is not None and after.reason == AssessmentReason.CORRECTION
    old, new = before.installments, after.installments
    assert new[:2] == old[:2]  # 第1期 (June) and 第2期 (August) were already due
    assert sum(p["amount"] for p in new) == after.total > before.total
    assert all(p["amount"] % 1000 == 0 for p in new[3:])


def test_work_queue_assign_and_forward(town_a, in_town, imported) -> None:
    family, _ = imported
    with in_town(town_a):
        stranger = TaxDocument.objects.get(match=MatchStatus.UNMATCHED)
        with pytest.raises(ServiceError, match="根拠"):
            services.document_assign(
                document_id=stranger.pk, person_id=family.records[2].person_id, note=" "
            )
        services.document_forward(document_id=stranger.pk, note="東京都千代田区へ回送")
        with pytest.raises(ServiceError, match="回送の扱い"):
            services.document_forward(document_id=stranger.pk, note="again")


def test_another_municipality_sees_nothing(town_a, town_b, in_town, imported) -> None:
    with in_town(town_a):
        services.assessment_run(municipality=town_a, fiscal_year=YEAR)
    with tenant_context(town_b):
        assert not TaxDocument.objects.exists()
        assert not Assessment.objects.exists()


def test_parameters_are_versioned_and_validated(town_a, in_town, imported) -> None:
    with in_town(town_a):
        services.assessment_run(municipality=town_a, fiscal_year=YEAR)
        with pytest.raises(ServiceError) as bad:
            services.parameters_update(fiscal_year=YEAR, overrides={"city_rate": -1}, note="誤り")
        assert bad.value.field == "city_rate"
        with pytest.raises(ServiceError) as unknown:
            services.parameters_update(fiscal_year=YEAR, overrides={"rate": 1}, note="誤り")
        assert unknown.value.field == "rate"
        setup = services.parameters_update(
            fiscal_year=YEAR,
            overrides={"prefecture_rate": 4025, "prefecture_per_capita_levy": 300},
            note="神奈川県の超過課税",
        )
        assert setup.row.version == 2
        rerun = services.assessment_run(municipality=town_a, fiscal_year=YEAR)
        assert rerun.written == 2  # every assessment changes with the parameters
        assert all(
            a.pref_per_capita == 1300
            for a in Assessment.objects.filter(is_current=True, nontaxable="")
        )


def test_simulate_validates_and_stores_nothing(town_a, in_town) -> None:
    with pytest.raises(ServiceError) as bad:
        services.simulate(fiscal_year=YEAR, data={"age": 30, "salary_revenue": -5})
    assert bad.value.field == "salary_revenue"
    with pytest.raises(ServiceError) as year:
        services.simulate(fiscal_year=2030, data={"age": 30})
    assert year.value.field == "fiscal_year"
    result = services.simulate(fiscal_year=YEAR, data={"age": 30, "salary_revenue": 1_500_000})
    assert result.total == 44_500


def _text(pdf: bytes) -> str:
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return text.replace(" ", "")  # headings are letter-spaced


def test_certificate_notices_are_issued_signed_and_audited(town_a, in_town, imported) -> None:
    family, _ = imported
    head, _, son = family.records
    with in_town(town_a):
        services.declaration_record(
            person_id=son.person_id,
            fiscal_year=YEAR,
            values={"salary_revenue": 1_500_000},
            kind="declaration",
        )
        services.assessment_run(municipality=town_a, fiscal_year=YEAR)
        mine = Assessment.objects.get(person_id=head.person_id)

        certificate = services.certificate_issue(
            person_id=head.person_id, fiscal_year=YEAR, purpose="児童手当の申請", requester="本人"
        )
        text = _text(certificate.pdf)
        assert "令和8年度" in text and "課税（所得）証明書" in text
        assert "髙橋\u3000一郎" in text and f"{mine.total:,}" in text and "令和8年1月1日" in text

        notice = services.tax_notice_issue(person_id=son.person_id, fiscal_year=YEAR, purpose="")
        text = _text(notice.pdf)
        assert "44,500" in text and "第4期" in text
        assert "令和8年6月30日" in text  # 第1期 at the end of June (a Tuesday)
        assert "令和9年2月1日" in text  # 1月31日 is a Sunday: the next business day
        with pytest.raises(ServiceError, match="普通徴収"):
            services.tax_notice_issue(person_id=head.person_id, fiscal_year=YEAR, purpose="")

        special = services.special_notice_issue(
            employer_id=mine.employer_id, fiscal_year=YEAR, purpose=""
        )
        text = _text(special.pdf)
        assert "特別徴収税額の決定通知書" in text and f"{mine.total:,}" in text
        kinds = set(
            AuditEvent.objects.filter(action="print").values_list("detail__kind", flat=True)
        )
        assert kinds == {
            "resident_tax.certificate",
            "resident_tax.notice",
            "resident_tax.special_notice",
        }
