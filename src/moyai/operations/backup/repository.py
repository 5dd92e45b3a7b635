"""A tenant's backup repository on one or more targets: sealed chunks and snapshot manifests.

Layout on every target::

    tenants/<団体コード>/keys/v<N>.check          which key version N is (tells a wrong key apart)
    tenants/<団体コード>/chunks/<ab>/<name>        one sealed chunk, named by HMAC of its contents
    tenants/<団体コード>/snapshots/<id>.snap       one sealed manifest: files → chunk names

A snapshot id is ``YYYYMMDDTHHMMSSffffffZ-<kind>-<random>`` (UTC), so a listing shows when and
what without decrypting anything. Chunks are written before the manifest that names them, so a
manifest never points at a chunk that was not stored; a prune must therefore not run beside a
backup of the same municipality (see locks.py and the grace period of ``backup_prune``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moyai.operations.backup.keys import (
    Corrupted,
    TenantKey,
    WrongKey,
    master_keys,
    sealed_version,
    tenant_key,
)
from moyai.operations.backup.rules import Chunker, SnapshotRef
from moyai.operations.backup.targets import MissingObject, Target

FORMAT = "moyai-backup"
FORMAT_VERSION = 1


class BackupProblem(RuntimeError):
    """A named problem with a stored backup (which target, snapshot, file and chunk)."""


def split_lines(data: bytes) -> Iterator[bytes]:
    """``data`` cut after each ``\\n`` (only there: a CSV ``\\r`` stays inside its line)."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            yield data[start:]
            return
        yield data[start : end + 1]
        start = end + 1


def snapshot_id(taken_at: datetime, kind: str) -> str:
    stamp = taken_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{kind}-{secrets.token_hex(3)}"


def parse_snapshot_id(sid: str) -> SnapshotRef:
    stamp, kind, _ = sid.split("-", 2)
    taken_at = datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    return SnapshotRef(id=sid, taken_at=taken_at, kind=kind)


@dataclass
class WriteStats:
    chunks: int = 0
    new_chunks: int = 0
    plain_bytes: int = 0
    stored_bytes: int = 0  # sealed bytes written to each target (new chunks + manifest)
    per_target: dict[str, int] = field(default_factory=dict)


class Repository:
    """One municipality's backups on ``targets`` (the first is read unless told otherwise)."""

    def __init__(
        self, targets: list[Target], code: str, keys: dict[int, bytes] | None = None
    ) -> None:
        if not targets:
            raise ValueError("no backup target")
        self.targets = targets
        self.code = code
        self._keys = keys
        self._tenant_keys: dict[int, TenantKey] = {}
        self.prefix = f"tenants/{code}/"
        # Targets that may lack chunks the previous snapshot names (see store_file).
        self.incomplete: list[Target] = []

    # keys -----------------------------------------------------------------------------------
    def _all_keys(self) -> dict[int, bytes]:
        if self._keys is None:
            self._keys = master_keys()
        return self._keys

    def current_key(self) -> TenantKey:
        return self.key(max(self._all_keys()))

    def key(self, version: int) -> TenantKey:
        if version not in self._tenant_keys:
            self._tenant_keys[version] = tenant_key(
                self.code, version=version, keys=self._all_keys()
            )
        return self._tenant_keys[version]

    def check_key(self, key: TenantKey, target: Target, *, write: bool = False) -> None:
        """Raise :class:`WrongKey` when ``target`` was written with another key of this version."""
        name = f"{self.prefix}keys/v{key.version}.check"
        try:
            stored = target.get(name).decode().strip()
        except MissingObject:
            if write:
                target.put(name, key.check_value().encode())
            return
        if stored != key.check_value():
            raise WrongKey(
                f"団体 {self.code} のバックアップ（{target.name}）は鍵の版 {key.version} の"
                "別の鍵で書かれています。MOYAI_BACKUP_KEYS を確認してください"
            )

    # listing --------------------------------------------------------------------------------
    def snapshots(self, target: Target | None = None) -> list[SnapshotRef]:
        target = target or self.targets[0]
        refs = []
        for key in target.list(f"{self.prefix}snapshots/"):
            name = key.rsplit("/", 1)[-1]
            if name.endswith(".snap"):
                refs.append(parse_snapshot_id(name[: -len(".snap")]))
        return sorted(refs, key=lambda r: (r.taken_at, r.id))

    def chunk_key(self, name: str) -> str:
        return f"{self.prefix}chunks/{name[:2]}/{name}"

    def snapshot_key(self, sid: str) -> str:
        return f"{self.prefix}snapshots/{sid}.snap"

    # writing --------------------------------------------------------------------------------
    def store_file(
        self,
        key: TenantKey,
        lines: Iterable[bytes],
        *,
        known: set[str],
        stats: WriteStats,
        chunker: Chunker | None = None,
    ) -> dict[str, Any]:
        """Chunk, seal and store one file; returns its manifest entry (rows, bytes, sha256,
        chunks). ``known`` holds the chunk names already stored (grows as chunks are stored)."""
        chunker = chunker or Chunker()
        digest = hashlib.sha256()
        names: list[str] = []
        rows = 0
        size = 0

        def emit(chunk: bytes) -> None:
            name = key.name(chunk)
            names.append(name)
            stats.chunks += 1
            stats.plain_bytes += len(chunk)
            if name in known:
                # Stored on every target that holds the previous snapshot; a target that does
                # not (added later, or emptied) is checked chunk by chunk.
                check = self.incomplete
            else:
                check = self.targets
                stats.new_chunks += 1
                known.add(name)
            sealed: bytes | None = None
            ck = self.chunk_key(name)
            for target in check:
                if target.exists(ck):
                    # Stored, but not named by the previous snapshot here: perhaps by no
                    # manifest at all (left by an unfinished run, or of snapshots being
                    # pruned). Touched, so that a prune this run's lock cannot hold back (another
                    # deployment) counts it as young until this snapshot's manifest names it.
                    target.touch(ck)
                    continue
                sealed = sealed or key.seal(chunk, context=f"chunk/{name}")
                target.put(ck, sealed)
                if target is self.targets[0]:
                    stats.stored_bytes += len(sealed)
                stats.per_target[target.name] = stats.per_target.get(target.name, 0) + len(sealed)

        for line in lines:
            digest.update(line)
            rows += 1
            size += len(line)
            chunk = chunker.feed(line)
            if chunk is not None:
                emit(chunk)
        last = chunker.flush()
        if last is not None:
            emit(last)
        return {"lines": rows, "bytes": size, "sha256": digest.hexdigest(), "chunks": names}

    def write_manifest(
        self, key: TenantKey, manifest: dict[str, Any], stats: WriteStats | None = None
    ) -> None:
        sid = manifest["id"]
        data = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode()
        sealed = key.seal(data, context=f"snapshot/{sid}")
        for target in self.targets:
            target.put(self.snapshot_key(sid), sealed)
            if stats is not None:
                stats.per_target[target.name] = stats.per_target.get(target.name, 0) + len(sealed)
        if stats is not None:
            stats.stored_bytes += len(sealed)

    # reading --------------------------------------------------------------------------------
    def read_manifest(self, sid: str, target: Target | None = None) -> dict[str, Any]:
        target = target or self.targets[0]
        where = f"{target.name} のスナップショット {sid}"
        try:
            blob = target.get(self.snapshot_key(sid))
        except MissingObject:
            raise BackupProblem(f"{where} がありません") from None
        try:
            key = self.key(sealed_version(blob))
            self.check_key(key, target)
            manifest: dict[str, Any] = json.loads(key.open(blob, context=f"snapshot/{sid}"))
        except Corrupted as exc:
            raise BackupProblem(f"{where}（目録）が壊れています: {exc}") from None
        if manifest.get("format") != FORMAT or manifest.get("id") != sid:
            raise BackupProblem(f"{where}: 目録の形式または識別子が違います")
        return manifest

    def read_chunk(
        self, key: TenantKey, name: str, *, target: Target | None = None, where: str = ""
    ) -> bytes:
        target = target or self.targets[0]
        place = f"{target.name}: {where}チャンク {name[:16]}…"
        try:
            blob = target.get(self.chunk_key(name))
        except MissingObject:
            raise BackupProblem(f"{place} がありません") from None
        try:
            data = key.open(blob, context=f"chunk/{name}")
        except Corrupted as exc:
            raise BackupProblem(f"{place} が壊れています: {exc}") from None
        if key.name(data) != name:
            raise BackupProblem(f"{place} の内容が名前（HMAC）と一致しません")
        return data

    def file_lines(
        self,
        manifest: dict[str, Any],
        file_name: str,
        *,
        target: Target | None = None,
    ) -> Iterator[bytes]:
        """The lines of one backed-up file, checked chunk by chunk and, at the end, against the
        file's SHA-256 and line count (a problem is raised naming the file and chunk)."""
        entry = manifest["files"][file_name]
        key = self.key(int(manifest["key_version"]))
        digest = hashlib.sha256()
        lines = 0
        total = len(entry["chunks"])
        for i, name in enumerate(entry["chunks"], start=1):
            data = self.read_chunk(
                key,
                name,
                target=target,
                where=f"スナップショット {manifest['id']} の {file_name} の {i}/{total} 番目の",
            )
            digest.update(data)
            for line in split_lines(data):
                lines += 1
                yield line
        if digest.hexdigest() != entry["sha256"] or lines != entry["lines"]:
            raise BackupProblem(
                f"スナップショット {manifest['id']} の {file_name}: SHA-256 または行数が目録と"
                "一致しません"
            )

    def chunk_names(self, manifest: dict[str, Any]) -> set[str]:
        return {n for entry in manifest["files"].values() for n in entry["chunks"]}
