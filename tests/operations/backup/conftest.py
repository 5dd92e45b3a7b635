from __future__ import annotations

import tempfile
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from moyai.exchange.services import gaiji_enqueue
from moyai.operations.backup.tables import AUDIT_HEAD_TABLE, dump_lines, tenant_tables
from moyai.operations.backup.targets import DirectoryTarget
from moyai.platform.models import AuditEvent, Municipality
from moyai.platform.outbox import emit
from moyai.platform.tenancy import tenant_context
from moyai.registry import services
from moyai.registry.rules import FuzzyDate
from moyai.registry.services import Address, NewPerson, Notification

KEY = bytes(range(32))


@pytest.fixture
def keys() -> dict[int, bytes]:
    return {1: KEY}


@pytest.fixture
def targets(tmp_path: Path) -> list[DirectoryTarget]:
    return [DirectoryTarget(tmp_path / "local"), DirectoryTarget(tmp_path / "offsite")]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Keys and targets as the commands and the nightly task find them."""
    monkeypatch.setenv("MOYAI_BACKUP_KEYS", f"1:{KEY.hex()}")
    monkeypatch.setenv("MOYAI_BACKUP_TARGETS", f"{tmp_path / 'local'},file://{tmp_path / 'off'}")
    return tmp_path


def run(*args: str, stderr: StringIO | None = None) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=stderr if stderr is not None else StringIO())
    return out.getvalue()


def stored(*roots: Path) -> dict[str, bytes]:
    """Every object under the target directories, with its contents."""
    return {
        p.as_posix(): p.read_bytes()
        for root in roots
        if root.exists()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def audit_rows(m: Municipality, target_type: str) -> int:
    with tenant_context(m):
        return AuditEvent.objects.filter(target_type=target_type).count()


def note(day: str) -> Notification:
    return Notification(FuzzyDate(day), date.fromisoformat(day), counter="本庁")


def household(town: str, family: str, n: int, *, my_number: str = "") -> Any:
    members = [
        NewPerson(
            family_name=family,
            given_name=["一郎", "花子", "翔", "𠮷美"][i % 4] + ("\U000e0102" if i == 3 else ""),
            name_kana="ヤマダ　タロウ",
            birth=FuzzyDate("1980-05-10"),
            sex="1" if i % 2 == 0 else "2",
            relation="世帯主" if i == 0 else "子",
            my_number=my_number if i == 0 else "",
        )
        for i in range(n)
    ]
    return services.move_in(
        notification=note("2026-04-01"),
        previous_address="東京都千代田区千代田1-1",
        address=Address(town=town, block="1番地"),
        members=members,
    )


def populate(m: Municipality, households: int, family: str = "山田") -> list[Any]:
    with tenant_context(m):
        made = [
            household(f"一色{i}", family, 1 + i % 3, my_number="621498320257" if i == 0 else "")
            for i in range(households)
        ]
        # Values that need escaping in every dump format: tab, newline, backslash, NUL bytes.
        emit(
            type="test.populated",
            subject_type="town",
            subject_id="tab\there\\back\nline",
            payload={"n": households, "text": "a\tb\nc\\d「𠮷」"},
        )
        with tempfile.TemporaryDirectory() as images:
            (Path(images) / "E001.png").write_bytes(b"\x89PNG\x00\t\n\\\xff" * 3)
            gaiji_enqueue(
                vendor="vendor_a",
                unmapped={"E001": ("JUKI.DAT", 1, "氏名", "山\ue001")},
                hints={"E001": "山へん"},
                images=Path(images),
            )
        return made


def state(m: Municipality) -> dict[str, list[bytes]]:
    """Every tenant table of ``m`` as the backup reads it (values as stored, by key)."""
    with transaction.atomic(), tenant_context(m):
        cursor = connection.cursor()
        return {
            spec.label: list(dump_lines(cursor, spec, m.pk, page=7)) for spec in tenant_tables()
        }


def without(snapshot: dict[str, list[bytes]], *labels: str) -> dict[str, list[bytes]]:
    return {k: v for k, v in snapshot.items() if k not in labels}


HEAD = AUDIT_HEAD_TABLE
