"""The tenant context: which municipality (団体) the current code acts for.

Every query of a tenant table goes through :class:`TenantManager`, which refuses to run unless a
municipality is set here. The context is a ``contextvars`` value set by the web middleware (from
the signed-in staff member or their 応援 grant), by the task runner and by CLI commands
(``--municipality CODE``). On PostgreSQL the same id is written to the transaction-local setting
``app.municipality_id`` that the row-level-security policies read, so that a query which slips
past the manager still sees nothing of another tenant.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.db import connection, models, transaction

if TYPE_CHECKING:
    from moyai.platform.models import Municipality

RLS_SETTING = "app.municipality_id"


class TenantContextMissing(RuntimeError):
    """A tenant table was queried with no municipality in the context."""


class TenantMismatch(RuntimeError):
    """A row of one municipality was about to be written under another's context."""


@dataclass(frozen=True)
class Tenant:
    id: int
    code: str
    name: str


_current: contextvars.ContextVar[Tenant | None] = contextvars.ContextVar(
    "moyai_tenant", default=None
)


def current_tenant() -> Tenant:
    """The municipality the code acts for; raises if none is set."""
    tenant = _current.get()
    if tenant is None:
        raise TenantContextMissing(
            "テナント（団体）が設定されていません: tenant tables need a municipality context"
        )
    return tenant


def current_tenant_or_none() -> Tenant | None:
    return _current.get()


def _set_database_tenant(tenant_id: int | None) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, true)",
            [RLS_SETTING, "" if tenant_id is None else str(tenant_id)],
        )


@contextmanager
def tenant_context(municipality: Municipality) -> Iterator[Tenant]:
    """Act for ``municipality`` inside one transaction (a savepoint when nested).

    The database setting is transaction-local, so the context always opens a transaction: when
    it ends, nothing of it leaks into the next use of a pooled connection.
    """
    tenant = Tenant(id=municipality.pk, code=municipality.code, name=municipality.name)
    outer = _current.get()
    token = _current.set(tenant)
    try:
        with transaction.atomic():
            _set_database_tenant(tenant.id)
            yield tenant
            if not connection.needs_rollback:
                _set_database_tenant(outer.id if outer else None)
    finally:
        _current.reset(token)


@contextmanager
def no_tenant() -> Iterator[None]:
    """Run platform-level code (operators, cross-tenant maintenance) with no tenant set."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


M = TypeVar("M", bound="TenantModel")


class TenantQuerySet(models.QuerySet[M], Generic[M]):
    pass


class TenantManager(models.Manager[M], Generic[M]):
    """Returns only the current municipality's rows and raises when no municipality is set."""

    def get_queryset(self) -> TenantQuerySet[M]:
        tenant = current_tenant()
        return TenantQuerySet(self.model, using=self._db).filter(municipality_id=tenant.id)


def municipality_key(*, db_index: bool = True) -> Any:
    """The ``municipality`` foreign key of a tenant table. A large table whose composite indexes
    all lead with it redeclares ``municipality = municipality_key(db_index=False)``: a
    single-column index there would only slow every insert down."""
    return models.ForeignKey(
        "platform.Municipality",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=db_index,
    )


class TenantModel(models.Model):
    """Base of every table that holds a municipality's data.

    ``municipality`` is non-null; unique constraints and foreign keys between tenant tables
    include it, so that a tenant can live on one shard (Citus) and no key crosses tenants.
    """

    municipality = municipality_key()

    objects: TenantManager[Any] = TenantManager()

    class Meta:
        abstract = True
        base_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Tenant guard, not business logic: a row is always written for the current tenant.
        tenant = current_tenant()
        if self.municipality_id is None:
            self.municipality_id = tenant.id
        elif self.municipality_id != tenant.id:
            raise TenantMismatch(
                f"{type(self).__name__} of municipality {self.municipality_id} "
                f"written under tenant {tenant.id}"
            )
        super().save(*args, **kwargs)


def tenant_models() -> list[type[models.Model]]:
    """Every concrete tenant table, for row-level security and the Citus check."""
    from django.apps import apps

    return [
        m
        for m in apps.get_models()
        if issubclass(m, TenantModel) and not m._meta.abstract and m._meta.managed
    ]
