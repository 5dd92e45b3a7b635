from __future__ import annotations

from typing import Any

import pytest

from moyai.documents import services
from moyai.documents.kinds import SAMPLE

# Names with ideographic variation sequences of the Moji_Joho collection (what IPAmj明朝 has):
# 葛 + U+E0102 (MJ022335) and 辻 + U+E0102 (MJ025760), plus 髙 (U+9AD9) and 𠮷 (U+20BB7).
KATSURAGI = "葛\U000e0102城"
NAME = f"{KATSURAGI} 髙志"
NAME_2 = "辻\U000e0102 𠮷子"


def sample_context(**overrides: Any) -> dict[str, Any]:
    context = {
        "name": NAME,
        "name_kana": "カツラギ タカシ",
        "birth_date_wareki": "昭和60年4月1日",
        "address": "神奈川県三浦郡葉山町堀内2135番地",
    }
    context.update(overrides)
    return context


@pytest.fixture
def issue(in_town: Any) -> Any:
    """``issue(town, **context)`` — issue the sample certificate in ``town`` as a CLI actor."""

    def do(town: Any, subject_id: str = "P-1", **context: Any) -> services.IssueResult:
        with in_town(town):
            return services.document_issue(
                kind=SAMPLE.code,
                subject_type="person",
                subject_id=subject_id,
                template_name="documents/sample.html",
                context=sample_context(**context),
                purpose="本人請求（就職）",
            )

    return do
