from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from moyai.platform import services
from moyai.platform.audit import Actor, acting_as
from moyai.platform.models import Municipality, Role, StaffUser
from moyai.platform.tenancy import tenant_context

PASSWORD = "correct-horse-battery-staple-42"


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def acts_recorded() -> Any:
    """The audit rows of the current municipality other than the fixtures' own registration of
    the municipality and its staff: what a test's act left in the log."""
    from moyai.platform.models import AuditEvent

    return AuditEvent.objects.exclude(purpose__in=["団体の登録", "職員の登録"])


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """On PostgreSQL, migrate as the owner, then run every test as the application role, so
    that row-level security is what the tests see (as in production)."""
    if connection.vendor != "postgresql":
        yield
        return
    options = connection.settings_dict.setdefault("OPTIONS", {})
    with django_db_blocker.unblock():
        options["assume_role"] = settings.DB_APP_ROLE
        connection.close()
    yield
    with django_db_blocker.unblock():
        options.pop("assume_role", None)
        connection.close()


@pytest.fixture(autouse=True)
def _flush_as_owner(request: pytest.FixtureRequest) -> Iterator[None]:
    """On PostgreSQL, let the end-of-test flush of transactional tests run as the owner.

    Transactional tests (``live_server``, ``transactional_db``) commit their data and empty the
    tables with ``TRUNCATE`` afterwards; the application role may by design not truncate the
    audit log. Requesting ``transactional_db`` here makes this teardown run before the flush;
    ``RESET ROLE`` returns to the owner, and Django reconnects (as the app role) afterwards.
    """
    names = request.fixturenames
    if "transactional_db" not in names and "live_server" not in names:
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    if connection.vendor == "postgresql" and connection.settings_dict["OPTIONS"].get("assume_role"):
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@pytest.fixture
def cli_actor() -> Iterator[Actor]:
    with acting_as(Actor(username="cli:test", channel="cli")) as actor:
        yield actor


@dataclass
class Staff:
    user: StaffUser
    device: TOTPDevice

    def token(self) -> str:
        d = self.device
        return f"{TOTP(d.bin_key, d.step, d.t0, d.digits, d.drift).token():06d}"


@pytest.fixture
def make_town(db: Any) -> Any:
    def make(code: str = "143014", name: str = "葉山町") -> Municipality:
        with acting_as(Actor(username="cli:test", channel="cli")):
            return services.municipality_create(code=code, name=name)

    return make


@pytest.fixture
def town_a(make_town: Any) -> Municipality:
    return make_town("143014", "葉山町")


@pytest.fixture
def town_b(make_town: Any) -> Municipality:
    return make_town("143219", "寒川町")


_counter = {"n": 0}


@pytest.fixture
def make_staff(db: Any) -> Any:
    def make(municipality: Municipality | None, *roles: Role, username: str = "") -> Staff:
        _counter["n"] += 1
        name = username or f"staff{_counter['n']}"
        with acting_as(Actor(username="cli:test", channel="cli")):
            new = services.staff_create(
                municipality=municipality,
                username=name,
                password=PASSWORD,
                roles=list(roles) or [Role.REGISTRY],
            )
        return Staff(new.user, TOTPDevice.objects.get(user=new.user))

    return make


def signed_in_client(staff: Staff) -> Client:
    """A test client signed in with both factors (session + verified OTP device)."""
    client = Client()
    client.force_login(staff.user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = staff.device.persistent_id
    session.save()
    return client


@pytest.fixture
def in_town() -> Any:
    """``with in_town(m):`` — tenant context plus a CLI actor, for arranging data."""
    from contextlib import contextmanager

    @contextmanager
    def ctx(m: Municipality) -> Iterator[None]:
        with (
            tenant_context(m),
            acting_as(Actor(username="cli:test", channel="cli", municipality_code=m.code)),
        ):
            yield

    return ctx
