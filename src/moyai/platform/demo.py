"""The demo 協議会: three synthetic municipalities with real 全国地方公共団体コード.

The codes and names are real; every person and record in the demo is synthetic.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from moyai.disaster import demo as disaster_demo
from moyai.operations.billing import demo as billing_demo
from moyai.platform import services
from moyai.platform.audit import Actor, acting_as, audit_record
from moyai.platform.models import MUNICIPAL_ROLES, AuditAction, Municipality, Role, StaffUser
from moyai.platform.outbox import emit
from moyai.platform.tenancy import tenant_context

COUNCIL = "湘南町村クラウド協議会（デモ）"
MUNICIPALITIES = [("143014", "葉山町"), ("143219", "寒川町"), ("143413", "大磯町")]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    municipality: str
    roles: str
    note: str = ""  # e.g. that the role's screens are not built yet


@dataclass(frozen=True)
class DemoSeed:
    created: bool
    password: str
    totp_key_hex: str
    logins: list[DemoLogin]


def demo_username(code: str, role: Role) -> str:
    return f"{code}-{role.value}"


def _login_note(role: Role) -> str:
    """The 国保 accounts are created (the role exists and is refused elsewhere, as in
    production) but no screen serves it yet: say so beside the login instead of hiding it."""
    from moyai.web.menu import roles_without_screens

    return (
        "  ※この業務の画面は未実装（ログインのみ）"
        if roles_without_screens(frozenset({role}))
        else ""
    )


@transaction.atomic
def seed_demo(*, password: str | None = None, persons: int = 300) -> DemoSeed:
    """Create the demo 協議会 once; later calls return what exists. All demo staff share one
    TOTP key so a visitor registers a single authenticator entry."""
    existing = StaffUser.objects.filter(username="operator").first()
    logins = [
        DemoLogin(demo_username(code, role), name, role.label, _login_note(role))
        for code, name in MUNICIPALITIES
        for role in MUNICIPAL_ROLES
    ] + [DemoLogin("operator", "（基盤運用）", Role.OPERATOR.label)]
    if existing is not None:
        device = TOTPDevice.objects.get(user=existing)
        return DemoSeed(False, "", device.key, logins)

    password = password or f"moyai-{secrets.token_hex(4)}-demo"
    key = secrets.token_hex(20)
    # Registered by the demo command: each town's audit log starts with it.
    with acting_as(Actor(username="cli:demo", channel="cli")):
        council = services.council_get_or_create(name=COUNCIL)
        municipalities: list[Municipality] = []
        for code, name in MUNICIPALITIES:
            municipalities.append(
                services.municipality_create(code=code, name=name, council=council)
            )
        staff: list[StaffUser] = []
        for m in municipalities:
            for role in MUNICIPAL_ROLES:
                new = services.staff_create(
                    municipality=m,
                    username=demo_username(m.code, role),
                    password=password,
                    roles=[role],
                    display_name=f"{m.name} {role.label}担当",
                    department=f"{role.label}課" if role is not Role.ADMIN else "総務課",
                )
                staff.append(new.user)
        services.staff_create(
            municipality=None,
            username="operator",
            password=password,
            roles=[Role.OPERATOR],
            display_name="基盤運用担当",
        )
    TOTPDevice.objects.update(key=key)

    # A 応援 grant from the first town to a disaster officer of the second, as in a drill.
    host, helper_town = municipalities[0], municipalities[1]
    admin = StaffUser.objects.get(username=demo_username(host.code, Role.ADMIN))
    now = timezone.now()
    with acting_as(
        Actor(username=admin.username, user_id=admin.pk, channel="cli", municipality_code=host.code)
    ):
        services.support_grant_create(
            host=host,
            granted_by=admin,
            grantee_username=demo_username(helper_town.code, Role.DISASTER),
            roles=[Role.DISASTER],
            reason="防災訓練（デモ）",
            starts_at=now,
            expires_at=now + timedelta(days=7),
        )
    for m in municipalities:
        with (
            tenant_context(m),
            acting_as(Actor(username="cli:demo", channel="cli", municipality_code=m.code)),
        ):
            audit_record(
                action=AuditAction.CREATE,
                target_type="municipality",
                target_id=m.code,
                purpose="デモ環境の作成",
            )
            emit(
                type="platform.municipality.joined",
                subject_type="municipality",
                subject_id=m.code,
                payload={"council": council.name},
            )
    from moyai.registry.synthetic import seed_population

    mayors = ["山田　太郎", "鈴木　花子", "佐藤　一郎"]  # synthetic names
    for i, m in enumerate(municipalities):
        with acting_as(Actor(username="cli:demo", channel="cli", municipality_code=m.code)):
            with tenant_context(m):
                services.profile_update(mayor_title=f"{m.name}長", mayor_name=mayors[i])
            seed_population(m, persons=persons, seed=i + 1)
            _demo_resident_tax(m, seed=i + 1)
            _demo_property_tax(m, seed=i + 1)
    billing_demo.seed_billing_demo(council=council, municipalities=municipalities)
    disaster_demo.seed_disaster(municipalities[0])
    return DemoSeed(True, password, key, logins)


def _demo_resident_tax(m: Municipality, *, seed: int) -> None:
    """給与支払報告書 for about 60 % of the working-age residents, imported and assessed, so
    the 税務 screens have something to show (the current 年度)."""
    import io
    from datetime import date

    from moyai.tax.resident import rules
    from moyai.tax.resident.services import assessment_run, reports_import
    from moyai.tax.resident.synthetic import demo_employees, salary_file

    today = timezone.localdate()
    year = min(today.year if today.month >= 4 else today.year - 1, rules.SUPPORTED_FISCAL_YEARS[-1])
    with tenant_context(m):
        employees = demo_employees(on=date(year, 1, 1), seed=seed)
        data = salary_file(employees, income_year=year - 1, municipality_code=m.code, seed=seed)
        reports_import(
            fiscal_year=year,
            kind="salary",
            stream=io.BytesIO(data),
            file_name="給与支払報告書（デモ）.csv",
            dry_run=False,
        )
    assessment_run(municipality=m, fiscal_year=year)


def _demo_property_tax(m: Municipality, *, seed: int) -> None:
    """A synthetic 固定資産課税台帳 (homes and houses of about half of the households, a
    共有 parcel, 住登外 owners and a 法人) and vehicles, both assessed for the current 年度."""
    from moyai.tax.light_vehicle.services import assessment_run as vehicles_run
    from moyai.tax.light_vehicle.synthetic import seed_vehicles
    from moyai.tax.property.services import SUPPORTED_FISCAL_YEARS, assessment_run
    from moyai.tax.property.synthetic import seed_ledger

    today = timezone.localdate()
    year = min(today.year if today.month >= 4 else today.year - 1, SUPPORTED_FISCAL_YEARS[-1])
    with tenant_context(m):
        seed_ledger(fiscal_year=year, seed=seed)
        seed_vehicles(fiscal_year=year, seed=seed)
    assessment_run(municipality=m, fiscal_year=year)
    vehicles_run(municipality=m, fiscal_year=year)
