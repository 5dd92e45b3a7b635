"""Pure rules of backup: content-defined chunking, which snapshot a restore uses, retention and
the nightly window planner. No Django, no I/O."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

# A chunk is cut after a line whose CRC-32 is 0 modulo CUT_MODULUS (so on average every
# CUT_MODULUS lines), but never before MIN_CHUNK_BYTES and always at MAX_CHUNK_BYTES (at the
# next line end). The cut depends only on the line itself: an inserted, changed or deleted row
# changes the chunk it falls in (and at most the next one), never the chunks after it.
CUT_MODULUS = 64
MIN_CHUNK_BYTES = 4 * 1024
MAX_CHUNK_BYTES = 1024 * 1024


def is_cut(line: bytes, *, modulus: int = CUT_MODULUS) -> bool:
    """Whether a chunk may end after ``line`` (content-defined: depends on the line only)."""
    return zlib.crc32(line) % modulus == 0


class Chunker:
    """Feeds lines (each ending in ``\\n``) and yields chunks cut at content-defined lines."""

    def __init__(
        self,
        *,
        modulus: int = CUT_MODULUS,
        min_bytes: int = MIN_CHUNK_BYTES,
        max_bytes: int = MAX_CHUNK_BYTES,
    ) -> None:
        if modulus < 1 or min_bytes < 0 or max_bytes < min_bytes:
            raise ValueError("invalid chunking parameters")
        self.modulus = modulus
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, line: bytes) -> bytes | None:
        """Add one line; returns a finished chunk when the line ends one."""
        self._parts.append(line)
        self._size += len(line)
        if self._size >= self.max_bytes or (
            self._size >= self.min_bytes and zlib.crc32(line) % self.modulus == 0
        ):
            return self._take()
        return None

    def flush(self) -> bytes | None:
        """The last, partial chunk (``None`` when nothing is pending)."""
        return self._take() if self._parts else None

    def _take(self) -> bytes:
        chunk = b"".join(self._parts)
        self._parts = []
        self._size = 0
        return chunk


def split_chunks(lines: Iterable[bytes], **kwargs: int) -> Iterator[bytes]:
    """All chunks of ``lines`` (see :class:`Chunker`)."""
    chunker = Chunker(**kwargs)
    for line in lines:
        chunk = chunker.feed(line)
        if chunk is not None:
            yield chunk
    last = chunker.flush()
    if last is not None:
        yield last


@dataclass(frozen=True)
class SnapshotRef:
    """What the repository's listing tells about a snapshot without decrypting it."""

    id: str
    taken_at: datetime
    kind: str  # "full" or "incremental"


def pick_snapshot(snapshots: Sequence[SnapshotRef], at: datetime) -> SnapshotRef | None:
    """The newest snapshot taken at or before ``at`` (point-in-time granularity = backups)."""
    eligible = [s for s in snapshots if s.taken_at <= at]
    return max(eligible, key=lambda s: (s.taken_at, s.id)) if eligible else None


def retained(
    snapshots: Sequence[SnapshotRef],
    *,
    daily: int,
    monthly: int,
    now: datetime,
    last: int = 1,
) -> set[str]:
    """The ids kept by "the ``last`` newest snapshots, the newest snapshot of each of the last
    ``daily`` days that have one, and of each of the last ``monthly`` months that have one".
    The newest snapshot is always kept. Days and months are taken in the timezone of
    ``taken_at`` (give them in JST)."""
    if daily < 0 or monthly < 0 or last < 0:
        raise ValueError("retention counts must not be negative")
    ordered = sorted(
        (s for s in snapshots if s.taken_at <= now),
        key=lambda s: (s.taken_at, s.id),
        reverse=True,
    )
    keep: set[str] = set()
    keep.update(s.id for s in ordered[: max(1, last)])
    days: set[str] = set()
    months: set[str] = set()
    for s in ordered:
        day = s.taken_at.strftime("%Y-%m-%d")
        month = s.taken_at.strftime("%Y-%m")
        if day not in days and len(days) < daily:
            days.add(day)
            keep.add(s.id)
        if month not in months and len(months) < monthly:
            months.add(month)
            keep.add(s.id)
    # Snapshots newer than ``now`` (clock skew between machines) are never pruned.
    keep.update(s.id for s in snapshots if s.taken_at > now)
    return keep


@dataclass(frozen=True)
class WindowPlan:
    """How many tenants' nightly incrementals fit a window."""

    window_seconds: int
    link_bits_per_second: float
    read_seconds_per_tenant: float
    upload_bytes_per_tenant: int
    upload_seconds_per_tenant: float
    serial_seconds_per_tenant: float
    tenants_serial: int
    tenants_pipelined: int
    bottleneck: str


def plan_window(
    *,
    window_seconds: int,
    link_bits_per_second: float,
    read_seconds_per_tenant: float,
    upload_bytes_per_tenant: int,
    workers: int = 1,
) -> WindowPlan:
    """Tenants per window from measured figures.

    A tenant's incremental costs ``read_seconds`` on the server (read, chunk, compress, encrypt;
    ``workers`` tenants at a time) and ``upload_bytes`` over the shared offsite link. Done one
    after the other, a tenant takes the sum; pipelined (the next tenant is read while the
    previous one uploads), the window is limited by whichever of the two is the slower stage.
    """
    if window_seconds <= 0 or link_bits_per_second <= 0 or workers < 1:
        raise ValueError("window, link speed and workers must be positive")
    upload_seconds = upload_bytes_per_tenant * 8 / link_bits_per_second
    serial = read_seconds_per_tenant + upload_seconds
    tenants_serial = int(window_seconds / serial + 1e-9) if serial > 0 else 0
    read_rate = workers / read_seconds_per_tenant if read_seconds_per_tenant > 0 else float("inf")
    upload_rate = 1 / upload_seconds if upload_seconds > 0 else float("inf")
    rate = min(read_rate, upload_rate)
    tenants_pipelined = int(window_seconds * rate + 1e-9) if rate != float("inf") else 0
    return WindowPlan(
        window_seconds=window_seconds,
        link_bits_per_second=link_bits_per_second,
        read_seconds_per_tenant=read_seconds_per_tenant,
        upload_bytes_per_tenant=upload_bytes_per_tenant,
        upload_seconds_per_tenant=upload_seconds,
        serial_seconds_per_tenant=serial,
        tenants_serial=tenants_serial,
        tenants_pipelined=tenants_pipelined,
        bottleneck="link" if upload_rate < read_rate else "server",
    )


def seed_link_bits_per_second() -> float:
    """The link speed implied by the seed document: 300 MB of change log took about 15 minutes
    offsite (300 × 10⁶ × 8 bits / 900 s ≈ 2.67 Mbit/s)."""
    return 300 * 10**6 * 8 / (15 * 60)
