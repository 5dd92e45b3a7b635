"""被災者支援 API: 災害の一覧, 被災世帯（台帳の記載事項と援護の状況）, 住家被害認定の登録,
抜け・漏れ・落ちの件数."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from moyai.disaster import selectors, services
from moyai.disaster.models import Dwelling
from moyai.platform.api import require_api_role
from moyai.platform.errors import ServiceError
from moyai.platform.models import Role

router = Router(tags=["被災者支援"])


def _role(request: HttpRequest) -> None:
    require_api_role(request, Role.DISASTER)


class DisasterOut(Schema):
    id: int
    code: str = Field(description="災害コード（被災した団体で共通）")
    name: str
    kind: str
    occurred_on: date
    baseline_on: date = Field(description="台帳の基準日（発生日の前日）")
    relief_act: bool
    support_act: bool
    towns: list[str]
    built: bool


@router.get("/disaster/disasters", response=list[DisasterOut], summary="災害の一覧")
def disaster_list(request: HttpRequest) -> list[dict[str, Any]]:
    _role(request)
    return [
        {
            **{f: getattr(d, f) for f in DisasterOut.model_fields if f != "built"},
            "built": d.built_at is not None,
        }
        for d in selectors.disasters()
    ]


class MemberOut(Schema):
    name: str
    name_kana: str
    birth_date: str
    sex: str
    relation: str
    status: str
    residence: str
    safety: str
    care_reason: str = Field(description="要配慮者であるときはその事由")


class SupportOut(Schema):
    programme: str
    entitled: int = Field(description="見込額（減免額）")
    status: str = Field(description="未申請 / 申請受付 / 支給（減免）決定 / 不支給 / 支払済")
    amount: int | None


class HouseholdOut(Schema):
    number: str = Field(description="り災番号")
    head_name: str
    address: str = Field(description="被災時住所")
    residence: str
    phone: str
    level: str = Field(description="住家の被害の程度")
    members: list[MemberOut] = Field(description="世帯の構成")
    certificates: list[str] = Field(description="交付したり災証明書・被災証明書の番号")
    support: list[SupportOut] = Field(description="援護の実施の状況")


@router.get(
    "/disaster/households/{household_id}",
    response=HouseholdOut,
    summary="被災者台帳の1世帯（第90条の3の記載事項と援護の実施の状況）",
)
def household(request: HttpRequest, household_id: int, purpose: str) -> dict[str, Any]:
    _role(request)
    d = selectors.household_get(household_id=household_id, purpose=purpose)
    applied = {a.programme_id: a for a in d.applications}
    return {
        "number": d.household.number_label,
        "head_name": d.household.head_name,
        "address": d.household.address,
        "residence": d.household.residence,
        "phone": d.household.phone,
        "level": d.dwelling.get_level_display() if d.dwelling and d.dwelling.level else "",
        "members": [
            {
                "name": m.name,
                "name_kana": m.name_kana,
                "birth_date": m.birth_date,
                "sex": m.sex,
                "relation": m.relation,
                "status": m.get_status_display(),
                "residence": m.residence,
                "safety": m.get_safety_display(),
                "care_reason": m.care_reason,
            }
            for m in d.members
        ],
        "certificates": [c.serial for c in d.certificates],
        "support": [
            {
                "programme": p.name,
                "entitled": amount,
                "status": applied[p.pk].get_status_display() if p.pk in applied else "未申請",
                "amount": applied[p.pk].amount if p.pk in applied else None,
            }
            for p, amount in d.entitlements
        ],
    }


class SurveyIn(Schema):
    kind: str = Field(
        "first", description="first（1次調査）/ second（2次調査）/ resurvey（再調査）"
    )
    method: str = Field("site", description="site / photo / flood_depth")
    surveyed_on: date | None = None
    ratio: str = Field("", description="損害割合（%、小数第1位まで）", examples=["45.3"])
    flood_depth_cm: int | None = None
    requested_by: str = ""
    reason: str = ""


class SurveyOut(Schema):
    seq: int
    level: str
    ratio: int = Field(description="損害割合（0.1%単位）")


@router.post(
    "/disaster/dwellings/{dwelling_id}/surveys",
    response=SurveyOut,
    summary="住家被害認定調査の結果の登録",
)
def survey(request: HttpRequest, dwelling_id: int, body: SurveyIn) -> dict[str, Any]:
    _role(request)
    if not Dwelling.objects.filter(pk=dwelling_id).exists():
        raise ServiceError("住家が見つかりません", field="dwelling_id", code="not_found")
    if body.surveyed_on is None:
        raise ServiceError("調査日を入力してください", field="surveyed_on")
    s = services.survey_record(
        dwelling_id=dwelling_id, **{**body.dict(), "surveyed_on": body.surveyed_on}
    )
    return {"seq": s.seq, "level": s.get_level_display(), "ratio": s.ratio}


class GapsOut(Schema):
    counts: dict[str, int]


@router.get(
    "/disaster/disasters/{disaster_id}/gaps",
    response=GapsOut,
    summary="抜け・漏れ・落ちの件数（未申請・未決定・未払・所在未確認）",
)
def gaps(request: HttpRequest, disaster_id: int) -> dict[str, Any]:
    _role(request)
    report = selectors.gap_report(disaster=selectors.disaster_get(disaster_id=disaster_id))
    return {"counts": report.counts}
