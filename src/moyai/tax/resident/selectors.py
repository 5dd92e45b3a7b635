"""個人住民税: reads for the screens and the API (personal data reads are audited)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Sum

from moyai.platform.audit import audit_record
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction, JobRun
from moyai.registry.models import ResidentRecord
from moyai.tax.resident import rules
from moyai.tax.resident.models import (
    Assessment,
    Collection,
    Employer,
    MatchStatus,
    Nontaxable,
    TaxDocument,
    TaxParameters,
)


@dataclass(frozen=True)
class CurrentParameters:
    """The 税率等 an assessment of a 年度 would use now. ``row`` is None while no version is
    registered: the national defaults apply, and version 1 is written by the first 賦課 or
    change, not by whoever happens to look."""

    fiscal_year: int
    row: TaxParameters | None
    params: rules.ResidentTaxParams


def parameters_current(*, fiscal_year: int) -> CurrentParameters:
    """The newest parameter version of ``fiscal_year``, or the national defaults; writes
    nothing (a page view or a 試算 must not create version 1)."""
    row = TaxParameters.objects.filter(fiscal_year=fiscal_year).order_by("-version").first()
    base = rules.national_defaults(fiscal_year)
    params = rules.params_from_mapping(base, row.overrides) if row is not None else base
    return CurrentParameters(fiscal_year, row, params)


def parameters_versions(*, fiscal_year: int) -> list[TaxParameters]:
    """Every registered version of ``fiscal_year``, newest first."""
    return list(TaxParameters.objects.filter(fiscal_year=fiscal_year).order_by("-version"))


@dataclass(frozen=True)
class YearOverview:
    fiscal_year: int
    documents: dict[str, int]
    queue: int
    assessments: int
    taxed: int
    nontaxable: dict[str, int]
    by_collection: dict[str, int]
    total: int
    corrections: int


def year_overview(*, fiscal_year: int) -> YearOverview:
    """Counts and totals of a 年度 (no personal data)."""
    docs = dict(
        TaxDocument.objects.filter(fiscal_year=fiscal_year, superseded=False)
        .values_list("match")
        .annotate(n=Count("id"))
    )
    current = Assessment.objects.filter(fiscal_year=fiscal_year, is_current=True)
    totals = current.aggregate(n=Count("id"), total=Sum("total"))
    nontaxable = dict(current.values_list("nontaxable").annotate(n=Count("id")))
    return YearOverview(
        fiscal_year=fiscal_year,
        documents={MatchStatus(k).label: v for k, v in docs.items()},
        queue=sum(v for k, v in docs.items() if k in (MatchStatus.PENDING, MatchStatus.UNMATCHED)),
        assessments=totals["n"] or 0,
        taxed=nontaxable.get(Nontaxable.NONE, 0),
        nontaxable={Nontaxable(k).label: v for k, v in nontaxable.items() if k},
        by_collection={
            Collection(k).label: v
            for k, v in current.values_list("collection").annotate(n=Count("id"))
        },
        total=totals["total"] or 0,
        corrections=Assessment.objects.filter(fiscal_year=fiscal_year, reason="correction").count(),
    )


def document_queue(*, fiscal_year: int, purpose: str, limit: int = 200) -> list[TaxDocument]:
    """課税資料 that still need a person (候補あり・該当なし), oldest first."""
    rows = list(
        TaxDocument.objects.select_related("employer")
        .filter(
            fiscal_year=fiscal_year,
            superseded=False,
            match__in=[MatchStatus.PENDING, MatchStatus.UNMATCHED],
        )
        .order_by("received_at", "id")[:limit]
    )
    audit_record(
        action=AuditAction.READ,
        target_type="resident_tax_queue",
        purpose=purpose,
        detail={"fiscal_year": fiscal_year, "rows": len(rows)},
    )
    return rows


def document_get(*, document_id: int) -> TaxDocument:
    document: TaxDocument | None = (
        TaxDocument.objects.select_related("employer", "person").filter(pk=document_id).first()
    )
    if document is None:
        raise ServiceError("課税資料が見つかりません", field="document", code="not_found")
    return document


def candidate_records(document: TaxDocument) -> list[tuple[dict[str, Any], ResidentRecord]]:
    ids = [c["person_id"] for c in document.candidates]
    records = {
        r.person_id: r
        for r in ResidentRecord.objects.filter(person_id__in=ids, is_latest=True).select_related(
            "person"
        )
    }
    return [(c, records[c["person_id"]]) for c in document.candidates if c["person_id"] in records]


@dataclass
class PersonTax:
    fiscal_year: int
    current: Assessment | None
    history: list[Assessment] = field(default_factory=list)
    documents: list[TaxDocument] = field(default_factory=list)


def person_tax(*, person_id: int, fiscal_year: int, purpose: str) -> PersonTax:
    """A person's assessment of a 年度, its history and the 課税資料 behind it (audited)."""
    history = list(
        Assessment.objects.select_related("params", "employer")
        .filter(person_id=person_id, fiscal_year=fiscal_year)
        .order_by("-seq")
    )
    documents = list(
        TaxDocument.objects.select_related("employer")
        .filter(person_id=person_id, fiscal_year=fiscal_year)
        .order_by("-received_at", "-id")
    )
    audit_record(
        action=AuditAction.READ,
        target_type="person",
        target_id=person_id,
        purpose=purpose,
        detail={"業務": "個人住民税", "fiscal_year": fiscal_year},
    )
    current = next((a for a in history if a.is_current), None)
    return PersonTax(fiscal_year, current, history, documents)


def employers_special(*, fiscal_year: int) -> list[dict[str, Any]]:
    """特別徴収義務者 with their number of employees and total (no personal data)."""
    rows = (
        Assessment.objects.filter(
            fiscal_year=fiscal_year, is_current=True, collection=Collection.SPECIAL
        )
        .values("employer_id")
        .annotate(n=Count("id"), total=Sum("total"))
    )
    employers = {e.pk: e for e in Employer.objects.filter(pk__in=[r["employer_id"] for r in rows])}
    return sorted(
        (
            {"employer": employers[r["employer_id"]], "persons": r["n"], "total": r["total"]}
            for r in rows
            if r["employer_id"] in employers
        ),
        key=lambda r: r["employer"].designation_number,
    )


def job_progress(*, key: str) -> JobRun | None:
    job: JobRun | None = JobRun.objects.filter(key=key).first()
    return job
