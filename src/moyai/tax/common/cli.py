"""What the tax 業務's console commands share."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError


def read_json_object(source: str) -> dict[str, Any]:
    """The JSON object of a 試算 request from the file ``source`` (``-``: standard input)."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text("utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise CommandError(f"JSON を読めません: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError("JSON はオブジェクト（{…}）で指定してください")
    return data
