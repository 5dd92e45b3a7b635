"""The staff shell's menu: each app contributes entries for the roles that may use them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from moyai.platform.models import Role


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    roles: frozenset[Role]
    order: int = 100


_items: list[MenuItem] = []


def register(label: str, url_name: str, roles: Iterable[Role], order: int = 100) -> None:
    _items.append(MenuItem(label, url_name, frozenset(roles), order))


def items_for(roles: frozenset[Role]) -> list[MenuItem]:
    return sorted((i for i in _items if i.roles & roles), key=lambda i: (i.order, i.label))


def roles_without_screens(roles: frozenset[Role]) -> list[str]:
    """The labels of the held roles that no screen serves yet (国保: its 業務 is not built),
    so that an empty home page can say why instead of pointing at the administrator."""
    return sorted(str(r.label) for r in roles if not items_for(frozenset({r})))


register("住民検索", "registry:search", [Role.REGISTRY], order=100)
register("転入届", "registry:move_in", [Role.REGISTRY], order=110)
register("異動の一覧・取消し", "registry:movements", [Role.REGISTRY], order=120)
register("外字の同定", "exchange:gaiji_queue", [Role.REGISTRY, Role.ADMIN], order=130)
register("個人住民税", "resident_tax:overview", [Role.TAX], order=200)
register("課税資料の名寄せ", "resident_tax:queue", [Role.TAX], order=210)
register("住民税の税率等", "resident_tax:parameters", [Role.TAX], order=220)
register("固定資産税", "property_tax:overview", [Role.TAX], order=300)
register("軽自動車税", "light_vehicle_tax:overview", [Role.TAX], order=310)
register("税務宛名", "tax_addressees:index", [Role.TAX], order=320)
register("被災者支援", "disaster:index", [Role.DISASTER], order=400)
register("避難行動要支援者名簿", "disaster:roster", [Role.DISASTER], order=410)
register("監査ログ", "platform:audit", [Role.ADMIN], order=900)
register("応援権限", "platform:grants", [Role.ADMIN], order=910)
register("職員一覧", "platform:staff", [Role.ADMIN], order=920)
register("団体の設定", "platform:profile", [Role.ADMIN], order=930)
register("団体一覧・稼働状況", "platform:tenants", [Role.OPERATOR], order=10)
register("割り勘（協議会・按分）", "billing:consortia", [Role.OPERATOR], order=20)
register("割り勘シミュレーション", "billing:simulate", [Role.OPERATOR], order=21)
register("バックアップ", "backup:overview", [Role.OPERATOR], order=30)
register("負担金請求明細", "billing:statements", [Role.ADMIN], order=940)
