"""Background entry points of 軽自動車税 (idempotent: safe to run again)."""

from __future__ import annotations

from moyai.platform.jobs import tenant_task
from moyai.platform.models import Municipality
from moyai.tax.light_vehicle.services import assessment_run


@tenant_task
def assess_year(municipality: Municipality, fiscal_year: int, job_key: str) -> int:
    """賦課 of ``fiscal_year`` as a chunked, resumable job; returns how many were written."""
    return assessment_run(
        municipality=municipality, fiscal_year=fiscal_year, job_key=job_key
    ).written
