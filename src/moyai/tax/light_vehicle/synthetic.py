"""Synthetic 軽自動車等 for demo municipalities and tests (invented plates and vehicles)."""

from __future__ import annotations

import random
from datetime import date

from moyai.registry.selectors import residents_as_of
from moyai.tax.addressees import services as addressees
from moyai.tax.light_vehicle import services

_CLASSES = [
    ("passenger", "2015-06"),
    ("passenger", "2010-02"),
    ("cargo", "2018-09"),
    ("moped_50", ""),
    ("light_two_wheel", ""),
    ("passenger", "2025-07"),
]


def seed_vehicles(*, fiscal_year: int, seed: int = 1, share: float = 0.3) -> int:
    """Register vehicles for about ``share`` of the adult residents (one with a 障害者減免)."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    on = date(fiscal_year - 1, 6, 1)
    count = 0
    adults = [
        r
        for r in residents_as_of(on=on, purpose="軽自動車税の架空の台帳の作成")
        if r.birth_date and r.birth_date[:4].isdigit() and int(r.birth_date[:4]) < fiscal_year - 20
    ]
    for record in adults:
        if rng.random() >= share:
            continue
        owner = addressees.addressee_for_resident(person_id=record.person_id)
        cls, inspection = rng.choice(_CLASSES)
        vehicle = services.vehicle_register(
            owner_id=owner.pk,
            facts=services.VehicleFacts(
                plate=f"湘南 {rng.randint(480, 589)} あ {rng.randint(10, 99)}-{rng.randint(10, 99)}"
                if inspection
                else f"葉山町 {rng.choice('あいうえ')} {rng.randint(1000, 9999)}",
                vehicle_class=cls,
                first_inspection=inspection,
                fuel=rng.choice(["gasoline", "gasoline", "hybrid", "ev"])
                if inspection
                else "gasoline",
                new_registration=date(2025, 7, 10) if inspection == "2025-07" else None,
            ),
            acquired_on=on,
        )
        if count == 0:
            services.exemption_set(
                vehicle_id=vehicle.pk, reason="身体障害者等", note="身体障害者手帳（架空）"
            )
        count += 1
    return count
