"""Pieces every tax 業務's services share: the 年度 check and the digest that makes assessment
runs idempotent (an unchanged digest means nothing to write)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from moyai.platform.errors import ServiceError


def input_digest(value: Any) -> str:
    """SHA-256 of ``value`` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def check_fiscal_year(fiscal_year: int, supported: Sequence[int]) -> None:
    """Refuse a 年度 the rules do not cover, naming those they do."""
    if fiscal_year not in supported:
        from moyai.tax.resident.rules import wareki_nendo

        years = "・".join(wareki_nendo(y) for y in supported)
        raise ServiceError(
            f"{fiscal_year}年度の規則はありません（対応: {years}）", field="fiscal_year"
        )
