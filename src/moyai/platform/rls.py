"""PostgreSQL row-level security and the application role's privileges.

Applied by ``moyai migrate`` after the migrations, as the owner (migration) role:

* every tenant table gets ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` and one policy that admits
  a row only when its ``municipality_id`` equals the transaction-local ``app.municipality_id``;
* the application role (``MOYAI_DB_APP_ROLE``, default ``moyai_app``) owns nothing and gets
  only data privileges: no DDL, no ``TRUNCATE``, and on the audit log only ``SELECT`` and
  ``INSERT`` — it cannot alter or delete an audit row.
"""

from __future__ import annotations

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

from moyai.platform.tenancy import RLS_SETTING, tenant_models

POLICY = "moyai_tenant_isolation"
APPEND_ONLY_TABLES = ("platform_auditevent",)
READ_ONLY_TABLES = ("django_migrations",)


def _q(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def apply_row_level_security(connection: BaseDatabaseWrapper) -> list[str]:
    """Create the app role if needed, grant privileges and (re)create every tenant policy.

    Returns the tenant tables it secured. Idempotent.
    """
    if connection.vendor != "postgresql":
        return []
    role = settings.DB_APP_ROLE
    qrole = _q(connection, role)
    secured: list[str] = []
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cur.fetchone() is None:
            cur.execute(
                f"CREATE ROLE {qrole} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
            )
        cur.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        row = cur.fetchone()
        if row is None or row[0] or row[1]:
            raise RuntimeError(f"role {role} must not be a superuser nor bypass RLS")
        # Let the migrating role switch to the app role (MOYAI_DB_ASSUME_ROLE=1, tests).
        cur.execute("SELECT current_user")
        current = cur.fetchone()[0]
        cur.execute(
            "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = %s AND u.rolname = %s",
            [role, current],
        )
        if cur.fetchone() is None:
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if not cur.fetchone()[0]:
                cur.execute(f"GRANT {qrole} TO {_q(connection, current)}")
        cur.execute(f"GRANT USAGE ON SCHEMA public TO {qrole}")
        cur.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {qrole}"
        )
        cur.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {qrole}")
        for table in APPEND_ONLY_TABLES:
            cur.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {_q(connection, table)} FROM {qrole}")
        for table in READ_ONLY_TABLES:
            cur.execute(
                f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {_q(connection, table)} FROM {qrole}"
            )
        expr = f"municipality_id = NULLIF(current_setting('{RLS_SETTING}', true), '')::bigint"
        for model in tenant_models():
            table = _q(connection, model._meta.db_table)
            cur.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            cur.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            cur.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            cur.execute(
                f"CREATE POLICY {POLICY} ON {table} FOR ALL TO PUBLIC "
                f"USING ({expr}) WITH CHECK ({expr})"
            )
            secured.append(model._meta.db_table)
    return secured
