"""Where backups are stored: a small key → bytes interface and its implementations.

``MOYAI_BACKUP_TARGETS`` lists the targets, comma-separated; the first is the local one (restore
reads from it first), the others are offsite copies written in the same run. A target is a
directory path (``/var/backups/moyai``, ``file:///mnt/offsite``) or, with ``boto3`` installed,
an S3-compatible bucket (``s3://bucket/prefix``; endpoint and credentials from the usual
``AWS_*`` variables, ``MOYAI_BACKUP_S3_ENDPOINT`` for a non-AWS store).
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from django.conf import settings

ENV_TARGETS = "MOYAI_BACKUP_TARGETS"


class Target(Protocol):
    """A flat store of immutable objects named by ``/``-separated keys."""

    name: str

    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str) -> list[str]: ...
    def delete(self, key: str) -> None: ...

    def list_modified(self, prefix: str) -> dict[str, datetime]:
        """Keys under ``prefix`` with the time each was last written or touched (UTC)."""
        ...

    def touch(self, key: str) -> None:
        """Set the object's modification time to now, keeping its contents (a backup that
        reuses a stored chunk touches it, so prune's grace period covers it; see
        docs/backup.md)."""
        ...


class MissingObject(FileNotFoundError):
    """A key the target does not hold."""


class DirectoryTarget:
    """Objects as files under a root directory; a write is a temp file renamed into place, so a
    crash never leaves half an object under its final name."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.name = str(self.root)
        self._made: set[Path] = set()

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if any(p in {"", ".", ".."} for p in parts):
            raise ValueError(f"invalid object key {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise MissingObject(f"{self.name}: {key} がありません") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix.rstrip("/"))
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list_modified(self, prefix: str) -> dict[str, datetime]:
        found = {}
        for key in self.list(prefix):
            try:
                mtime = self._path(key).stat().st_mtime
            except FileNotFoundError:
                continue  # deleted meanwhile
            found[key] = datetime.fromtimestamp(mtime, UTC)
        return found

    def touch(self, key: str) -> None:
        try:
            os.utime(self._path(key))
        except FileNotFoundError:
            raise MissingObject(f"{self.name}: {key} がありません") from None


class S3Target:
    """An S3-compatible bucket through boto3 (only when boto3 is installed)."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        if client is None:
            import boto3  # optional dependency

            client = boto3.client(
                "s3", endpoint_url=os.environ.get("MOYAI_BACKUP_S3_ENDPOINT") or None
            )
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.name = f"s3://{bucket}/{self.prefix}"

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except self.client.exceptions.NoSuchKey:
            raise MissingObject(f"{self.name}: {key} がありません") from None
        body: bytes = response["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except Exception as exc:  # botocore ClientError 404
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in {"404", "NoSuchKey"}:
                return False
            raise
        return True

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            keys.extend(obj["Key"][len(self.prefix) :] for obj in page.get("Contents", []))
        return sorted(keys)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def list_modified(self, prefix: str) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for obj in page.get("Contents", []):
                found[obj["Key"][len(self.prefix) :]] = obj["LastModified"].astimezone(UTC)
        return dict(sorted(found.items()))

    def touch(self, key: str) -> None:
        # A copy onto itself with new metadata: done inside the store, nothing is sent again.
        full = self.prefix + key
        self.client.copy_object(
            Bucket=self.bucket,
            Key=full,
            CopySource={"Bucket": self.bucket, "Key": full},
            Metadata={"moyai-touched": datetime.now(UTC).isoformat()},
            MetadataDirective="REPLACE",
        )


def target_from_url(url: str) -> Target:
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        return S3Target(parsed.netloc, parsed.path)
    if parsed.scheme == "file":
        return DirectoryTarget(parsed.path)
    if parsed.scheme == "":
        return DirectoryTarget(url)
    raise ValueError(f"{ENV_TARGETS}: 対応していない保存先です: {url}")


def configured_targets(env: str | None = None) -> list[Target]:
    """The targets of ``MOYAI_BACKUP_TARGETS`` (default: ``DATA_DIR/backups``)."""
    text = os.environ.get(ENV_TARGETS, "") if env is None else env
    urls = [u.strip() for u in text.split(",") if u.strip()]
    if not urls:
        urls = [str(Path(settings.DATA_DIR) / "backups")]
    return [target_from_url(u) for u in urls]
