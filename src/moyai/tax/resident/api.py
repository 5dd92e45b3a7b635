"""個人住民税 API: 試算 (public, stores nothing), a person's assessment with its explanation,
更正, and the 年度 overview."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from moyai.platform.api import require_api_role
from moyai.platform.errors import ServiceError
from moyai.platform.models import Role
from moyai.platform.selectors import active_municipality
from moyai.tax.resident import rules, selectors, services
from moyai.tax.resident.models import Assessment

router = Router(tags=["個人住民税"])
YEAR = Field(description="年度（西暦）。2025 = 令和7年度、2026 = 令和8年度", ge=2025, le=2026)


def _role(request: HttpRequest) -> None:
    require_api_role(request, Role.TAX)


class StepOut(Schema):
    key: str
    label: str
    amount: int
    basis: str
    law: str
    group: str


class SplitOut(Schema):
    city: int = Field(description="市町村民税")
    prefecture: int = Field(description="道府県民税")


class OutcomeOut(Schema):
    fiscal_year: int
    nendo: str
    total_income: int = Field(description="合計所得金額")
    taxable_income: int = Field(description="課税総所得金額")
    exemption: str = Field(description="none 課税 / income_levy 所得割のみ非課税 / full 全部非課税")
    exemption_label: str
    income_levy: SplitOut = Field(description="所得割額")
    per_capita: SplitOut = Field(description="均等割額")
    forest_environment_tax: int
    total: int = Field(description="年税額")
    trace: list[StepOut] = Field(description="計算の説明（順に）")


class SimulateIn(Schema):
    fiscal_year: int = YEAR
    municipality_code: str = Field(
        "", description="団体コード（6桁）。その団体の税率等で計算。空なら全国標準"
    )
    taxpayer: dict[str, Any] = Field(
        description="所得・控除・家族（docs/resident-tax.md の「試算の JSON」）。例: "
        '{"age": 30, "salary_revenue": 1500000}'
    )


@router.post(
    "/tax/resident/simulate",
    response=OutcomeOut,
    auth=None,
    summary="個人住民税の試算（公開・認証不要、何も保存しない）",
)
def simulate(request: HttpRequest, body: SimulateIn) -> dict[str, Any]:
    """The same computation as a real assessment; nothing is stored or logged about the input."""
    municipality = None
    if body.municipality_code:
        municipality = active_municipality(code=body.municipality_code)
        if municipality is None:
            raise ServiceError("団体が見つかりません", field="municipality_code", code="not_found")
    outcome = services.simulate(
        fiscal_year=body.fiscal_year, data=body.taxpayer, municipality=municipality
    )
    return services.outcome_dict(outcome)


class PeriodOut(Schema):
    label: str
    due: str
    amount: int


class AssessmentOut(Schema):
    person_id: int
    fiscal_year: int
    seq: int = Field(description="履歴番号")
    is_current: bool
    reason: str = Field(description="initial 当初 / additional 随時 / correction 更正")
    parameters_version: int
    nontaxable: str
    total_income: int
    taxable_income: int
    city_income_levy: int
    pref_income_levy: int
    city_per_capita: int
    pref_per_capita: int
    forest_tax: int
    total: int
    collection: str = Field(description="special 特別徴収 / ordinary 普通徴収 / none")
    employer: str | None = Field(description="特別徴収義務者の指定番号")
    installments: list[PeriodOut]
    created_at: str
    note: str

    @staticmethod
    def of(a: Assessment) -> dict[str, Any]:
        return {
            "person_id": a.person_id,
            "fiscal_year": a.fiscal_year,
            "seq": a.seq,
            "is_current": a.is_current,
            "reason": a.reason,
            "parameters_version": a.params.version,
            "nontaxable": a.nontaxable,
            "total_income": a.total_income,
            "taxable_income": a.taxable_income,
            "city_income_levy": a.city_income_levy,
            "pref_income_levy": a.pref_income_levy,
            "city_per_capita": a.city_per_capita,
            "pref_per_capita": a.pref_per_capita,
            "forest_tax": a.forest_tax,
            "total": a.total,
            "collection": a.collection,
            "employer": a.employer.designation_number if a.employer else None,
            "installments": a.installments,
            "created_at": a.created_at.isoformat(),
            "note": a.note,
        }


class PersonTaxOut(Schema):
    current: AssessmentOut | None
    explanation: OutcomeOut | None
    history: list[AssessmentOut]


class PersonTaxIn(Schema):
    fiscal_year: int = YEAR
    purpose: str = Field(min_length=1, max_length=200, description="照会の目的（記録されます）")


@router.get(
    "/tax/resident/persons/{person_id}",
    response=PersonTaxOut,
    summary="個人の課税・履歴・計算の説明",
)
def person_tax(request: HttpRequest, person_id: int, q: Query[PersonTaxIn]) -> dict[str, Any]:
    _role(request)
    from moyai.registry.models import Person

    if not Person.objects.filter(pk=person_id).exists():
        raise ServiceError("住民が見つかりません", field="person", code="not_found")
    tax = selectors.person_tax(person_id=person_id, fiscal_year=q.fiscal_year, purpose=q.purpose)
    explanation = services.outcome_dict(services.explain(tax.current)) if tax.current else None
    return {
        "current": AssessmentOut.of(tax.current) if tax.current else None,
        "explanation": explanation,
        "history": [AssessmentOut.of(a) for a in tax.history],
    }


class CorrectionIn(Schema):
    fiscal_year: int = YEAR
    note: str = Field(min_length=1, max_length=200, description="更正の理由")


class CorrectionOut(Schema):
    changed: bool
    assessment: AssessmentOut | None


@router.post(
    "/tax/resident/persons/{person_id}/correction",
    response=CorrectionOut,
    summary="更正（課税資料に基づく再計算）",
)
def correction(request: HttpRequest, person_id: int, body: CorrectionIn) -> dict[str, Any]:
    _role(request)
    from moyai.registry.models import Person

    if not Person.objects.filter(pk=person_id).exists():
        raise ServiceError("住民が見つかりません", field="person", code="not_found")
    new = services.assessment_correct(
        person_id=person_id, fiscal_year=body.fiscal_year, note=body.note
    )
    return {"changed": new is not None, "assessment": AssessmentOut.of(new) if new else None}


class OverviewIn(Schema):
    fiscal_year: int = YEAR


class OverviewOut(Schema):
    fiscal_year: int
    nendo: str
    documents: dict[str, int]
    queue: int
    assessments: int
    taxed: int
    nontaxable: dict[str, int]
    by_collection: dict[str, int]
    total: int
    corrections: int


@router.get("/tax/resident/overview", response=OverviewOut, summary="年度の状況（件数・合計）")
def overview(request: HttpRequest, q: Query[OverviewIn]) -> dict[str, Any]:
    _role(request)
    o = selectors.year_overview(fiscal_year=q.fiscal_year)
    return {**o.__dict__, "nendo": rules.wareki_nendo(q.fiscal_year)}
