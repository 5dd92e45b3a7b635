"""標準レイアウトへの出力: a whole tenant's registry, with full history, as standard-layout files.

The export reads one consistent snapshot (a single transaction), writes each file as it streams
the rows a page at a time (memory stays flat however large the registry), and records the export
in the audit log. 個人番号 are written only when asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

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


PAGE = 2000  # rows per page: per query and per write


def _pages(
    rows: QuerySet[Any], key: str, fields: Sequence[str], size: int = PAGE
) -> Iterator[list[tuple[Any, ...]]]:
    """``rows`` in ``key`` order (a unique key), ``size`` at a time, each page read after the
    last key of the previous one (keyset pagination): memory holds one page, and with planner
    statistics every page is a short scan of the unique index on ``key``. (Right after a bulk
    load, before ``ANALYZE``, PostgreSQL has no statistics and misjudges the tenant filter; the
    export then still works but is several times slower — see ``docs/benchmarks.md``.)"""
    at = list(fields).index(key)
    last = None
    while True:
        page = rows.order_by(key)
        if last is not None:
            page = page.filter(**{f"{key}__gt": last})
        found = list(page.values_list(*fields)[:size])
        if not found:
            return
        yield found
        last = found[-1][at]


def _encoder(columns: Sequence[layout.Column]) -> Callable[[Sequence[Any]], list[str]]:
    """Values in column order → CSV cells (plain text cells pass through untouched)."""
    kinds = [c.kind for c in columns]
    encode = layout.encode

    def cells(values: Sequence[Any]) -> list[str]:
        return [
            value if kind == "text" and type(value) is str else encode(value, kind)
            for value, kind in zip(values, kinds, strict=True)
        ]

    return cells


def _person_pages(code: str, with_my_number: bool) -> Iterator[list[list[str]]]:
    cells = _encoder(layout.PERSON_COLUMNS)
    fields = ("address_number", "resident_code", "my_number_cipher", "latest_seq", "created_at")
    for page in _pages(Person.objects.all(), "address_number", fields):
        rows = []
        for number, resident_code, cipher, latest_seq, created_at in page:
            my_number = ""
            if with_my_number and cipher:
                my_number = crypto.decrypt(cipher, bound_to=f"{code}:{number}")
            rows.append(cells((number, resident_code, my_number, latest_seq, created_at)))
        yield rows


def _movement_pages() -> Iterator[list[list[str]]]:
    cells = _encoder(layout.MOVEMENT_COLUMNS)
    links = {"cancels_number": "cancels_id", "cancelled_by_number": "cancelled_by_id"}
    fields = [links.get(c.attr, c.attr) for c in layout.MOVEMENT_COLUMNS]
    at = [i for i, c in enumerate(layout.MOVEMENT_COLUMNS) if c.attr in links]
    for page in _pages(Movement.objects.all(), "number", fields):
        linked = {row[i] for row in page for i in at if row[i] is not None}
        numbers = _movement_numbers(linked)
        rows = []
        for row in page:
            values = list(row)
            for i in at:
                values[i] = numbers[row[i]] if row[i] is not None else None
            rows.append(cells(values))
        yield rows


def _movement_numbers(ids: set[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(Movement.objects.filter(pk__in=ids).values_list("pk", "number"))


def _record_pages() -> Iterator[list[list[str]]]:
    # One page of persons at a time: their records by person, the movements' numbers by id.
    cells = _encoder(layout.RECORD_COLUMNS)
    own = [
        c.attr for c in layout.RECORD_COLUMNS if c.attr not in ("address_number", "movement_number")
    ]
    source = {attr: 2 + i for i, attr in enumerate(own)}
    seq_at = source["seq"]
    for people in _pages(Person.objects.all(), "address_number", ("pk", "address_number")):
        position = {pk: (i, number) for i, (pk, number) in enumerate(people)}
        found = list(
            ResidentRecord.objects.filter(person_id__in=position).values_list(
                "person_id", "movement_id", *own
            )
        )
        found.sort(key=lambda r: (position[r[0]][0], r[seq_at]))
        numbers = _movement_numbers({r[1] for r in found})
        rows = []
        for r in found:
            values = [
                position[r[0]][1]
                if c.attr == "address_number"
                else numbers[r[1]]
                if c.attr == "movement_number"
                else r[source[c.attr]]
                for c in layout.RECORD_COLUMNS
            ]
            rows.append(cells(values))
        yield rows


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of the registry for the whole export, which reads it in many small
    queries: on PostgreSQL a ``REPEATABLE READ`` transaction (under ``READ COMMITTED`` each
    query would see the 異動 committed meanwhile). Inside a caller's transaction its own
    isolation applies; SQLite's transactions are snapshots already."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def export_tenant(
    *, municipality: Municipality, directory: Path, with_my_number: bool, purpose: str
) -> ExportResult:
    """Write ``municipality``'s registry to ``directory`` (which must be empty or absent)."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"出力先 {directory} は空ではありません")
    from moyai.exchange import tax

    files: dict[str, Any] = {}
    with _snapshot(), tenant_context(municipality):
        producers = {
            layout.PERSON_FILE: _person_pages(municipality.code, with_my_number),
            layout.MOVEMENT_FILE: _movement_pages(),
            layout.RECORD_FILE: _record_pages(),
            **tax.producers(),
        }
        for name, columns in layout.ALL_FILES:
            sink = _Sink(directory / name, columns)
            for page in producers[name]:
                sink.write(page)
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
