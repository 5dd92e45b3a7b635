"""The 試算 commands' JSON input: a clear refusal for a file that is not a JSON object."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management.base import CommandError

from moyai.tax.common.cli import read_json_object


def test_reads_an_object_and_refuses_anything_else(tmp_path: Path) -> None:
    good = tmp_path / "in.json"
    good.write_text('{"salary": 5000000}', "utf-8")
    assert read_json_object(str(good)) == {"salary": 5000000}
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", "utf-8")
    with pytest.raises(CommandError, match="オブジェクト"):
        read_json_object(str(listed))
    broken = tmp_path / "broken.json"
    broken.write_text('{"salary": ', "utf-8")
    with pytest.raises(CommandError, match="JSON を読めません"):
        read_json_object(str(broken))
    with pytest.raises(CommandError, match="JSON を読めません"):
        read_json_object(str(tmp_path / "missing.json"))
