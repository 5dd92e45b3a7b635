"""Pure rules: chunking, point-in-time choice, retention, the window planner; keys."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moyai.operations.backup import rules
from moyai.operations.backup.keys import (
    BackupKeyError,
    Corrupted,
    parse_master_keys,
    tenant_key,
)
from moyai.operations.backup.repository import parse_snapshot_id, snapshot_id, split_lines


def rows(n: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    return [f'[{i},"山田{rng.randint(0, 10**9)}","2026-04-01"]\n'.encode() for i in range(n)]


def test_chunks_rejoin_to_the_input_and_respect_the_bounds() -> None:
    lines = rows(5000)
    chunks = list(rules.split_chunks(lines, modulus=16, min_bytes=512, max_bytes=4096))
    assert b"".join(chunks) == b"".join(lines)
    assert all(c.endswith(b"\n") for c in chunks)
    assert all(len(c) < 4096 + 64 for c in chunks)
    assert all(len(c) >= 512 for c in chunks[:-1])
    assert 5000 * 40 / 4096 < len(chunks) < 5000 * 40 / 512


@settings(max_examples=30, deadline=None)
@given(position=st.integers(min_value=0, max_value=2999), kind=st.sampled_from("ids"))
def test_a_change_touches_only_nearby_chunks(position: int, kind: str) -> None:
    """Insert, delete or change one row anywhere: all but at most two chunks stay the same."""
    lines = rows(3000)
    changed = list(lines)
    if kind == "i":
        changed.insert(position, b'[999999,"new row"]\n')
    elif kind == "d":
        del changed[position]
    else:
        changed[position] = b'[0,"edited"]\n'
    params = {"modulus": 32, "min_bytes": 256, "max_bytes": 1 << 20}
    before = list(rules.split_chunks(lines, **params))
    after = list(rules.split_chunks(changed, **params))
    assert len(set(after) - set(before)) <= 2
    assert len(set(before) - set(after)) <= 3


def test_invalid_chunking_parameters() -> None:
    with pytest.raises(ValueError):
        rules.Chunker(modulus=0)
    with pytest.raises(ValueError):
        rules.Chunker(min_bytes=10, max_bytes=5)


def test_split_lines_cuts_only_at_newline() -> None:
    assert list(split_lines(b'a,"x\r\ny"\nb\n\nc')) == [b'a,"x\r\n', b'y"\n', b"b\n", b"\n", b"c"]
    assert list(split_lines(b"")) == []


def at(day: int, hour: int = 2) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def refs(*times: datetime) -> list[rules.SnapshotRef]:
    return [rules.SnapshotRef(f"s{i}", t, "incremental") for i, t in enumerate(times)]


def test_pick_snapshot_is_the_newest_at_or_before() -> None:
    snaps = refs(at(1), at(2), at(3))
    assert rules.pick_snapshot(snaps, at(2)) == snaps[1]  # exactly at: included
    assert rules.pick_snapshot(snaps, at(2, 23)) == snaps[1]
    assert rules.pick_snapshot(snaps, at(30)) == snaps[2]
    assert rules.pick_snapshot(snaps, at(1, 1)) is None


def test_retention_daily_monthly_last() -> None:
    # Two a day from 2026-09-01 to 2026-11-30.
    start = datetime(2026, 9, 1, tzinfo=UTC)
    snaps = [
        rules.SnapshotRef(f"{d:03d}{h}", start + timedelta(days=d, hours=h), "incremental")
        for d in range(91)
        for h in (1, 13)
    ]
    now = start + timedelta(days=91)
    keep = rules.retained(snaps, daily=7, monthly=3, now=now)
    # newest of each of the last 7 days (= the 13:00 ones) + newest of Nov, Oct, Sep.
    assert keep == {f"{d:03d}13" for d in range(84, 91)} | {"06013", "02913"}
    assert len(keep) == 9
    assert rules.retained(snaps, daily=0, monthly=0, now=now) == {"09013"}
    assert rules.retained(snaps, daily=0, monthly=0, last=3, now=now) == {"09013", "0901", "08913"}
    future = rules.SnapshotRef("future", now + timedelta(hours=1), "full")
    assert "future" in rules.retained([*snaps, future], daily=1, monthly=0, now=now)
    with pytest.raises(ValueError):
        rules.retained(snaps, daily=-1, monthly=0, now=now)


def test_window_plan_reproduces_the_seed() -> None:
    """The seed: 300 MB of change log took about 15 minutes offsite, so 18 municipalities fit
    a 6-hour night (with a little server time each: 6 h / 20 min = 18)."""
    link = rules.seed_link_bits_per_second()
    assert round(link) == 2_666_667
    plan = rules.plan_window(
        window_seconds=6 * 3600,
        link_bits_per_second=link,
        read_seconds_per_tenant=300,
        upload_bytes_per_tenant=300 * 10**6,
    )
    assert round(plan.upload_seconds_per_tenant) == 900
    assert plan.tenants_serial == 18
    assert plan.tenants_pipelined == 24 and plan.bottleneck == "link"
    small = rules.plan_window(
        window_seconds=6 * 3600,
        link_bits_per_second=link,
        read_seconds_per_tenant=60,
        upload_bytes_per_tenant=2 * 10**6,
        workers=2,
    )
    assert small.bottleneck == "server" and small.tenants_pipelined == 720
    with pytest.raises(ValueError):
        rules.plan_window(
            window_seconds=0,
            link_bits_per_second=1,
            read_seconds_per_tenant=1,
            upload_bytes_per_tenant=1,
        )


def test_master_keys_parse_and_complain() -> None:
    keys = parse_master_keys(f"1:{'ab' * 32}, 2:{'A' * 43}")
    assert keys[1] == bytes([0xAB]) * 32 and len(keys[2]) == 32
    for bad, message in [
        ("", "環境変数 MOYAI_BACKUP_KEYS"),
        ("abc", "「版:鍵」"),
        ("1:abcd", "32バイト"),
        (f"0:{'ab' * 32}", "1〜65535"),
    ]:
        with pytest.raises(BackupKeyError, match=message):
            parse_master_keys(bad)


def test_tenant_keys_are_separate_and_authenticated() -> None:
    keys = {1: bytes(32), 2: bytes(range(32))}
    a1 = tenant_key("143014", version=1, keys=keys)
    b1 = tenant_key("143219", version=1, keys=keys)
    a2 = tenant_key("143014", keys=keys)
    assert a2.version == 2
    assert len({a1.encryption, b1.encryption, a2.encryption, a1.naming}) == 4
    assert a1.name(b"row") != b1.name(b"row")  # names leak nothing across tenants
    sealed = a1.seal(b"data" * 100, context="chunk/x")
    assert a1.open(sealed, context="chunk/x") == b"data" * 100
    with pytest.raises(Corrupted, match="認証タグ"):
        a1.open(sealed, context="chunk/y")  # moved under another name
    with pytest.raises(Corrupted, match="認証タグ"):
        b1.open(sealed, context="chunk/x")  # another tenant's key
    with pytest.raises(Corrupted, match="鍵の版が違います"):
        a2.open(sealed, context="chunk/x")
    with pytest.raises(Corrupted, match="短すぎます"):
        a1.open(sealed[:20], context="chunk/x")
    with pytest.raises(BackupKeyError, match="鍵の版 3"):
        tenant_key("143014", version=3, keys=keys)


def test_snapshot_ids_sort_by_time() -> None:
    t = datetime(2026, 11, 30, 17, 0, 1, 250, tzinfo=UTC)
    sid = snapshot_id(t, "full")
    ref = parse_snapshot_id(sid)
    assert ref.taken_at == t and ref.kind == "full" and sid.startswith("20261130T170001000250Z")
