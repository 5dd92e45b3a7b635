"""標準レイアウトへの出力: a whole tenant's registry, with full history, as standard-layout files.

The export reads one consistent snapshot (a single transaction), writes each file as it streams
the rows, and records the export in the audit log. 個人番号 are written only when asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moyai.exchange import layout
from moyai.platform import crypto
from moyai.platform.audit import audit_record
from moyai.platform.models import AuditAction, Municipality
from moyai.platform.tenancy import tenant_context
from moyai.registry.models import Movement, Person, ResidentRecord


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    manifest: dict[str, Any]


class _Sink:
    """Writes one CSV file while hashing it and counting its rows."""

    def __init__(self, path: Path, columns: Sequence[layout.Column]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("wb")
        self.columns = columns
        self.sha = hashlib.sha256()
        self.rows = 0
        self._emit(layout.write_csv(columns, []))

    def _emit(self, data: bytes) -> None:
        self.file.write(data)
        self.sha.update(data)

    def write(self, rows: list[list[str]]) -> None:
        if rows:
            body = layout.write_csv(self.columns, rows)
            self._emit(body[body.index(b"\n") + 1 :])  # without the header line
            self.rows += len(rows)

    def close(self) -> dict[str, Any]:
        self.file.close()
        return {"rows": self.rows, "sha256": self.sha.hexdigest()}


def _chunks(rows: Iterator[list[str]], size: int = 2000) -> Iterator[list[list[str]]]:
    chunk: list[list[str]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _person_rows(code: str, with_my_number: bool) -> Iterator[list[str]]:
    for p in Person.objects.order_by("address_number").iterator(chunk_size=2000):
        number = ""
        if with_my_number and p.my_number_cipher:
            number = crypto.decrypt(p.my_number_cipher, bound_to=f"{code}:{p.address_number}")
        values = {
            "address_number": p.address_number,
            "resident_code": p.resident_code,
            "my_number": number,
            "latest_seq": p.latest_seq,
            "created_at": p.created_at,
        }
        yield [layout.encode(values[c.attr], c.kind) for c in layout.PERSON_COLUMNS]


def _movement_rows() -> Iterator[list[str]]:
    numbers = dict(Movement.objects.values_list("pk", "number"))
    for m in Movement.objects.order_by("number").iterator(chunk_size=2000):
        values = {c.attr: getattr(m, c.attr, None) for c in layout.MOVEMENT_COLUMNS}
        values["cancels_number"] = numbers.get(m.cancels_id) if m.cancels_id else None
        values["cancelled_by_number"] = (
            numbers.get(m.cancelled_by_id) if m.cancelled_by_id else None
        )
        yield [layout.encode(values[c.attr], c.kind) for c in layout.MOVEMENT_COLUMNS]


def _record_rows() -> Iterator[list[str]]:
    qs = ResidentRecord.objects.select_related("person", "movement").order_by(
        "person__address_number", "seq"
    )
    for r in qs.iterator(chunk_size=2000):
        values = {c.attr: getattr(r, c.attr, None) for c in layout.RECORD_COLUMNS}
        values["address_number"] = r.person.address_number
        values["movement_number"] = r.movement.number
        yield [layout.encode(values[c.attr], c.kind) for c in layout.RECORD_COLUMNS]


def export_tenant(
    *, municipality: Municipality, directory: Path, with_my_number: bool, purpose: str
) -> ExportResult:
    """Write ``municipality``'s registry to ``directory`` (which must be empty or absent)."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"出力先 {directory} は空ではありません")
    files: dict[str, Any] = {}
    with tenant_context(municipality):
        producers = {
            layout.PERSON_FILE: _person_rows(municipality.code, with_my_number),
            layout.MOVEMENT_FILE: _movement_rows(),
            layout.RECORD_FILE: _record_rows(),
        }
        for name, columns in layout.FILES:
            sink = _Sink(directory / name, columns)
            for chunk in _chunks(producers[name]):
                sink.write(chunk)
            files[name] = sink.close()
        last = Movement.objects.order_by("-number").values_list("number", flat=True).first()
        manifest = {
            "format": layout.FORMAT,
            "version": layout.VERSION,
            "団体コード": municipality.code,
            "団体名": f"{municipality.prefecture}{municipality.name}",
            "最終異動番号": last or 0,
            "個人番号を含む": with_my_number,
            "files": files,
        }
        (directory / "manifest.json").write_bytes(layout.manifest_bytes(manifest))
        audit_record(
            action=AuditAction.EXPORT,
            target_type="registry_export",
            purpose=purpose,
            detail={
                "directory": str(directory),
                "with_my_number": with_my_number,
                "counts": {k: v["rows"] for k, v in files.items()},
            },
        )
    return ExportResult(directory, manifest)


def gaiji_queue(*, include_resolved: bool = False) -> list[Any]:
    """The current municipality's 外字 waiting to be identified (oldest first)."""
    from moyai.exchange.models import GaijiQueueItem

    qs = GaijiQueueItem.objects.all()
    if not include_resolved:
        qs = qs.filter(resolved=False)
    rows = list(qs.order_by("created_at", "pk"))
    audit_record(
        action=AuditAction.READ,
        target_type="gaiji_queue",
        purpose="外字の同定",
        detail={"items": len(rows)},
    )
    return rows


def gaiji_queue_item(*, item_id: int) -> Any:
    from moyai.exchange.models import GaijiQueueItem

    item = GaijiQueueItem.objects.filter(pk=item_id).first()
    if item is not None:
        audit_record(
            action=AuditAction.READ, target_type="gaiji", target_id=item.pk, purpose="外字の同定"
        )
    return item
