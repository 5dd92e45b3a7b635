"""The operator's backup screen: times and kinds per municipality, nothing personal."""

from __future__ import annotations

from moyai.operations.backup import services
from moyai.platform.models import Role
from tests.conftest import signed_in_client

from .conftest import KEY, populate


def test_operator_sees_backups_per_municipality(
    town_a, town_b, make_staff, cli_actor, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("MOYAI_BACKUP_KEYS", f"1:{KEY.hex()}")
    monkeypatch.setenv("MOYAI_BACKUP_TARGETS", str(tmp_path / "local"))
    populate(town_a, 2)
    full = services.backup_tenant(municipality=town_a)
    operator = signed_in_client(make_staff(None, Role.OPERATOR))
    response = operator.get("/operations/backup/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "143014" in html and "143219" in html
    assert full.snapshot_id in html and "（完全）" in html
    assert "山田" not in html  # no personal data on the operator's screen
    assert "<strong>なし</strong>" in html  # 寒川町 has no backup yet
    assert operator.post("/operations/backup/").status_code == 405

    staff = signed_in_client(make_staff(town_a, Role.ADMIN))
    assert staff.get("/operations/backup/").status_code == 403
