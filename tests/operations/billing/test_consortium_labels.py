"""The 協議会 page names a usage pool's 業務 in Japanese, not by its code."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_usage_pool_names_its_business_in_japanese(consortium, operator) -> None:
    council = consortium["council"]
    page = operator.get(f"/operations/billing/consortia/{council.pk}/").content.decode()
    assert "業務別従量（利用実績割）（処理件数・住民記録）" in page
    assert "・registry）" not in page
