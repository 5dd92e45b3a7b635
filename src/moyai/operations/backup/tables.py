"""Every tenant table as a stream of lines, and back.

A backup must reproduce the whole tenant, including what the standard layout leaves out (audit
log, outbox, documents, tax assessments, jobs …), and exactly: the stored values (ciphertext of
個人番号, PDF bytes, hashes of the audit chain) and the primary keys that tie the rows together.
So each tenant table (``tenant_models()``, which every new app joins) is read with plain SQL —
values as the database holds them, no ORM conversion — one JSON array per row in primary-key
order, after a header line naming the table and its columns. Loading inserts the same values
with the same keys. Foreign keys between tenant tables are ``DEFERRABLE INITIALLY DEFERRED``
(Django's default), so the rows of one transaction may arrive in any table order.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from moyai.platform.tenancy import RLS_SETTING, tenant_models

PAGE = 5000
MUNICIPALITY_COLUMN = "municipality_id"
AUDIT_TABLE = "platform.AuditEvent"
AUDIT_HEAD_TABLE = "platform.AuditChainHead"


@dataclass(frozen=True)
class TableSpec:
    label: str  # app_label.Model
    db_table: str
    columns: tuple[str, ...]
    pk: str
    model: type[models.Model] | None = field(default=None, compare=False, repr=False)

    @property
    def file_name(self) -> str:
        return f"tables/{self.label}.jsonl"

    def with_columns(self, columns: Iterable[str]) -> TableSpec:
        """The same table, read or written through ``columns`` only."""
        return replace(self, columns=tuple(columns))


def tenant_tables() -> list[TableSpec]:
    """Every tenant table of this deployment, in a stable order (by label)."""
    specs = []
    for model in tenant_models():
        meta = model._meta
        specs.append(
            TableSpec(
                label=meta.label,
                db_table=meta.db_table,
                columns=tuple(str(f.column) for f in meta.concrete_fields),
                pk=str(meta.pk.column) if meta.pk else "id",
                model=model,
            )
        )
    return sorted(specs, key=lambda s: s.label)


def _enc_bytes(v: Any) -> Any:
    return {"$b": base64.b64encode(bytes(v)).decode()}


_ENCODERS: dict[type, Callable[[Any], Any]] = {
    dt.datetime: lambda v: {"$dt": v.isoformat()},
    dt.date: lambda v: {"$d": v.isoformat()},
    dt.time: lambda v: {"$t": v.isoformat()},
    dt.timedelta: lambda v: {"$td": (v.days * 86400 + v.seconds) * 10**6 + v.microseconds},
    Decimal: lambda v: {"$n": str(v)},
    bytes: _enc_bytes,
    memoryview: _enc_bytes,
    bytearray: _enc_bytes,
    uuid.UUID: lambda v: {"$u": str(v)},
}
_PLAIN = (str, int, float, bool, type(None))

_DECODERS: dict[str, Callable[[Any], Any]] = {
    "$dt": dt.datetime.fromisoformat,
    "$d": dt.date.fromisoformat,
    "$t": dt.time.fromisoformat,
    "$td": lambda v: dt.timedelta(microseconds=v),
    "$n": Decimal,
    "$b": base64.b64decode,
    "$u": uuid.UUID,
}


def encode_value(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    encoder = _ENCODERS.get(type(value))
    if encoder is None:
        raise TypeError(f"cannot back up a value of type {type(value).__name__}")
    return encoder(value)


def decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        ((tag, inner),) = value.items()
        return _DECODERS[tag](inner)
    return value


def _line(values: Iterable[Any]) -> bytes:
    return (
        json.dumps([encode_value(v) for v in values], ensure_ascii=False, separators=(",", ":"))
        + "\n"
    ).encode()


def header_line(spec: TableSpec, encoding: str = "json") -> bytes:
    return _header(spec.label, list(spec.columns), encoding)


def _header(label: str, columns: list[str], encoding: str) -> bytes:
    return (
        json.dumps(
            {"table": label, "columns": columns, "encoding": encoding},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        + "\n"
    ).encode()


def set_database_tenant(cursor: CursorWrapper, municipality_id: int) -> None:
    """The row-level-security setting on this cursor's connection (transaction-local)."""
    if cursor.db.vendor == "postgresql":
        cursor.execute("SELECT set_config(%s, %s, true)", [RLS_SETTING, str(municipality_id)])


def _q(cursor: CursorWrapper, name: str) -> str:
    return str(cursor.db.ops.quote_name(name))


def dump_lines(
    cursor: CursorWrapper, spec: TableSpec, municipality_id: int, *, page: int = PAGE
) -> Iterator[bytes]:
    """The header and one line per row of ``municipality_id`` in ``spec``, by primary key.

    PostgreSQL: the rows as ``COPY … TO STDOUT`` writes them (text format: the server's own
    canonical text of each value, tab-separated, one line per row — no per-value work in
    Python). SQLite: one JSON array per row, read in pages by primary key (keyset). Either way
    memory stays flat; run it inside one snapshot transaction for a consistent result."""
    # Every name in these statements comes from the model's metadata, quoted.
    cols = ", ".join(_q(cursor, c) for c in spec.columns)
    table = _q(cursor, spec.db_table)
    pk = _q(cursor, spec.pk)
    where = _q(cursor, MUNICIPALITY_COLUMN)
    base = f"SELECT {cols} FROM {table} WHERE {where} = %s"  # noqa: S608
    if cursor.db.vendor == "postgresql":
        yield header_line(spec, "copy")
        query = base.replace("%s", str(int(municipality_id))) + f" ORDER BY {pk}"
        pending = b""
        with cursor.cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
            for block in copy:
                data = pending + bytes(block)
                end = data.rfind(b"\n") + 1
                if end:
                    yield from _split(data[:end])
                pending = data[end:]
        if pending:
            yield pending
        return
    yield header_line(spec)
    pk_index = spec.columns.index(spec.pk)
    last: Any = None
    while True:
        if last is None:
            cursor.execute(f"{base} ORDER BY {pk} LIMIT {int(page)}", [municipality_id])
        else:
            cursor.execute(
                f"{base} AND {pk} > %s ORDER BY {pk} LIMIT {int(page)}", [municipality_id, last]
            )
        rows = cursor.fetchall()
        for row in rows:
            yield _line(row)
        if len(rows) < page:
            return
        last = rows[-1][pk_index]


def _split(data: bytes) -> Iterator[bytes]:
    start = 0
    while start < len(data):
        end = data.index(b"\n", start) + 1
        yield data[start:end]
        start = end


_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_COPY_ESCAPE = re.compile(r"\\(.)")


def _copy_field(text: str) -> str | None:
    if text == "\\N":
        return None
    if "\\" not in text:
        return text
    return _COPY_ESCAPE.sub(lambda m: _COPY_ESCAPES.get(m[1], m[1]), text)


def parse_copy_row(line: bytes) -> list[Any]:
    """One line of ``COPY … TO STDOUT`` (text format) → its fields as text (``None`` = NULL).

    Inserted as text, each value is read back by the server with its column's type, so the
    stored value — and the line a new ``COPY`` writes — is the same."""
    text = line.decode()
    if text.endswith("\n"):
        text = text[:-1]
    return [_copy_field(f) for f in text.split("\t")]


def parse_header(line: bytes) -> tuple[str, list[str], str]:
    """Table label, columns and row encoding (``json`` or ``copy``) of a dump's first line."""
    header = json.loads(line)
    return (
        str(header["table"]),
        [str(c) for c in header["columns"]],
        str(header.get("encoding", "json")),
    )


def parse_row(line: bytes) -> list[Any]:
    return [decode_value(v) for v in json.loads(line)]


def row_parser(encoding: str) -> Callable[[bytes], list[Any]]:
    return parse_copy_row if encoding == "copy" else parse_row


def delete_rows(cursor: CursorWrapper, spec: TableSpec, municipality_id: int) -> int:
    cursor.execute(
        f"DELETE FROM {_q(cursor, spec.db_table)} "  # noqa: S608
        f"WHERE {_q(cursor, MUNICIPALITY_COLUMN)} = %s",
        [municipality_id],
    )
    return int(cursor.rowcount)


def insert_rows(
    cursor: CursorWrapper,
    spec: TableSpec,
    rows: list[list[Any]],
    municipality_id: int,
) -> None:
    """Insert rows (values in ``spec.columns`` order), rewritten to ``municipality_id``."""
    if not rows:
        return
    m = spec.columns.index(MUNICIPALITY_COLUMN)
    for row in rows:
        row[m] = municipality_id
    cols = ", ".join(_q(cursor, c) for c in spec.columns)
    marks = ", ".join(["%s"] * len(spec.columns))
    table = _q(cursor, spec.db_table)
    cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608


def advance_sequence(cursor: CursorWrapper, spec: TableSpec, max_pk: int) -> None:
    """On PostgreSQL, move the table's id sequence past ``max_pk`` if it is behind (a restore
    into another deployment inserts ids that sequence has not issued yet)."""
    if cursor.db.vendor != "postgresql":
        return
    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [spec.db_table, spec.pk])
    row = cursor.fetchone()
    if not row or not row[0]:
        return
    sequence = row[0]
    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
    last_value, is_called = cursor.fetchone()
    if last_value < max_pk or (last_value == max_pk and not is_called):
        cursor.execute("SELECT setval(%s, %s, true)", [sequence, max_pk])


def cursor_for(using: str) -> CursorWrapper:
    return connections[using].cursor()


# --- rows of an older schema --------------------------------------------------------------------
#
# Each dump names its columns in its header. After an upgrade whose migration added or removed a
# column, a snapshot's rows are mapped onto the current table: a column the snapshot lacks gets
# the value that migration gave the rows already there; a column the table no longer has is
# dropped (its data is lost, so the restore asks for that explicitly; see services).


@dataclass(frozen=True)
class Fill:
    """How a column added since a snapshot is filled for the snapshot's rows."""

    how: str  # "database" (left out of the INSERT), "value" (one value), "row" (per row)
    value: Any = None
    make: Callable[[], Any] | None = None

    @property
    def label(self) -> str:
        """In Japanese, for the restore's warnings and audit detail."""
        if self.how == "database":
            return "データベースの既定値"
        if self.how == "row":
            return "既定値（行ごとに生成）"
        return "NULL" if self.value is None else "既定値"


def column_fill(field_: models.Field[Any, Any], connection: BaseDatabaseWrapper) -> Fill | None:
    """What the migration that added ``field_`` gave the rows already in the table (Django's
    ``effective_default``), or ``None`` when that is not known (a NOT NULL column without any
    default: its migration asked for a one-off value that the model does not keep).

    - ``db_default``, or a generated column: left to the database (its ``DEFAULT``, exactly as
      for the rows the migration found);
    - a model default: a constant is prepared once, the same for every row; a *callable*
      (``uuid.uuid4``, ``timezone.now`` …) is called for **each row**, as when the application
      creates one — a unique column stays unique, and a time is the restore's (the migration's
      moment is not known; nothing is invented to look like it);
    - a NOT NULL text or binary field with ``blank=True``: ``""`` (what Django's migration gives);
    - ``auto_now`` / ``auto_now_add``: the time of the restore, per row;
    - nullable: ``NULL``.
    """
    if field_.generated or field_.has_db_default():
        return Fill("database")
    if field_.has_default():
        if callable(field_.default):
            return Fill(
                "row", make=lambda: field_.get_db_prep_save(field_.get_default(), connection)
            )
        return Fill("value", field_.get_db_prep_save(field_.get_default(), connection))
    if not field_.null and field_.blank and field_.empty_strings_allowed:
        empty = b"" if field_.get_internal_type() == "BinaryField" else ""
        return Fill("value", field_.get_db_prep_save(empty, connection))
    if getattr(field_, "auto_now", False) or getattr(field_, "auto_now_add", False):
        return Fill("row", make=lambda: field_.get_db_prep_save(_now(field_), connection))
    if field_.null:
        return Fill("value", None)
    return None


def _now(field_: models.Field[Any, Any]) -> Any:
    now = timezone.now()
    kind = field_.get_internal_type()
    if kind == "DateField":
        return timezone.localdate(now)
    if kind == "TimeField":
        return timezone.localtime(now).time()
    return now


@dataclass(frozen=True)
class RowMap:
    """How the rows of one dump (columns as its header names them) become rows of the current
    table: ``spec`` is the table with the columns written, in the table's order."""

    spec: TableSpec
    sources: tuple[int | Fill, ...]  # per written column: its place in the dump's row, or a fill
    added: dict[str, Fill]  # in the table, not in the dump (filled; "database" ones not written)
    removed: tuple[str, ...]  # in the dump, not in the table (dropped)
    unfillable: tuple[str, ...]  # added, NOT NULL, no default known: cannot be restored
    identity: bool  # the dump's columns are exactly the columns written

    def __call__(self, row: list[Any]) -> list[Any]:
        if self.identity:
            return row
        out = []
        for source in self.sources:
            if isinstance(source, int):
                out.append(row[source])
            elif source.make is not None:
                out.append(source.make())
            else:
                out.append(source.value)
        return out


def row_map(spec: TableSpec, columns: list[str], connection: BaseDatabaseWrapper) -> RowMap:
    """Map a dump of ``spec``'s table with ``columns`` onto the table as it is now."""
    index = {c: i for i, c in enumerate(columns)}
    fields = {str(f.column): f for f in spec.model._meta.concrete_fields} if spec.model else {}
    written: list[str] = []
    sources: list[int | Fill] = []
    added: dict[str, Fill] = {}
    unfillable: list[str] = []
    for column in spec.columns:
        field_ = fields.get(column)
        if field_ is not None and field_.generated:
            continue  # computed by the database, never written
        if column in index:
            written.append(column)
            sources.append(index[column])
            continue
        fill = column_fill(field_, connection) if field_ is not None else None
        if fill is None:
            unfillable.append(column)
            continue
        added[column] = fill
        if fill.how != "database":
            written.append(column)
            sources.append(fill)
    return RowMap(
        spec=spec.with_columns(written),
        sources=tuple(sources),
        added=added,
        removed=tuple(c for c in columns if c not in spec.columns),
        unfillable=tuple(unfillable),
        identity=written == columns,
    )


def project_lines(lines: Iterator[bytes], keep: list[str]) -> Iterator[bytes]:
    """A dump (header first) cut down to the columns ``keep`` (in that order), byte for byte as
    :func:`dump_lines` would write it with those columns: what a restore that dropped the other
    columns must give back."""
    label, columns, encoding = parse_header(next(lines))
    at = [columns.index(c) for c in keep]
    yield _header(label, keep, encoding)
    for line in lines:
        if encoding == "copy":
            fields = line[:-1].split(b"\t") if line.endswith(b"\n") else line.split(b"\t")
            yield b"\t".join(fields[i] for i in at) + b"\n"
        else:
            values = json.loads(line)
            yield (
                json.dumps([values[i] for i in at], ensure_ascii=False, separators=(",", ":"))
                + "\n"
            ).encode()
