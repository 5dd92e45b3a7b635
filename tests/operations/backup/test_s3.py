"""The S3-compatible target, against moto's in-process S3 (no network)."""

from __future__ import annotations

import pytest

from moyai.operations.backup import services
from moyai.operations.backup.targets import MissingObject, S3Target

from .conftest import populate, state

_OPTIONAL = "the S3 target needs the optional boto3 (moyai[s3]) and moto (dev) installed"
boto3 = pytest.importorskip("boto3", reason=_OPTIONAL)
moto = pytest.importorskip("moto", reason=_OPTIONAL)


@pytest.fixture
def s3_target(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="moyai-offsite")
        yield S3Target("moyai-offsite", "/backups/", client=client)


def test_s3_target_basics(s3_target) -> None:
    s3_target.put("a/b/1", b"one")
    s3_target.put("a/c/2", b"two")
    assert s3_target.get("a/b/1") == b"one"
    assert s3_target.exists("a/c/2") and not s3_target.exists("a/c/3")
    assert s3_target.list("a/") == ["a/b/1", "a/c/2"]
    s3_target.delete("a/b/1")
    assert s3_target.list("a/") == ["a/c/2"]
    with pytest.raises(MissingObject):
        s3_target.get("a/b/1")
    assert s3_target.name == "s3://moyai-offsite/backups/"


def test_s3_target_ages_and_touch(s3_target) -> None:
    s3_target.put("chunks/ab/1", b"one")
    [(key, first)] = s3_target.list_modified("chunks/").items()
    assert key == "chunks/ab/1" and first.tzinfo is not None
    s3_target.touch("chunks/ab/1")  # a copy onto itself inside the store
    assert s3_target.get("chunks/ab/1") == b"one"
    assert s3_target.list_modified("chunks/")["chunks/ab/1"] >= first
    head = s3_target.client.head_object(Bucket="moyai-offsite", Key="backups/chunks/ab/1")
    assert "moyai-touched" in head["Metadata"]


def test_backup_to_s3_offsite_and_restore_from_it(
    town_a, cli_actor, targets, keys, s3_target
) -> None:
    populate(town_a, 3)
    full = services.backup_tenant(municipality=town_a, targets=[targets[0], s3_target], keys=keys)
    assert full.stats.per_target[s3_target.name] > 0
    before = state(town_a)
    services.restore_tenant(
        municipality_code=town_a.code, source=1, targets=[targets[0], s3_target], keys=keys
    )
    after = state(town_a)
    assert {k: v for k, v in after.items() if "Audit" not in k} == {
        k: v for k, v in before.items() if "Audit" not in k
    }
    check = services.backup_verify(
        municipality_code=town_a.code, targets=[s3_target], keys=keys, scratch=False
    )
    assert check.ok and check.checked_snapshots == 1
