"""The audit log screens show target types, channels, command actors and details in Japanese;
the stored values (hashed into the chain) are unchanged."""

import html as html_lib

from django.urls import reverse

from moyai.platform.audit import Actor, acting_as, audit_record
from moyai.platform.models import AuditEvent, Role
from moyai.platform.tenancy import tenant_context

from ..conftest import signed_in_client


def _record(town, *, actor: str, channel: str, **fields) -> AuditEvent:
    with (
        tenant_context(town),
        acting_as(Actor(username=actor, channel=channel, municipality_code=town.code)),
    ):
        return audit_record(**fields)


def test_search_results_use_japanese_labels(town_a, make_staff) -> None:
    _record(
        town_a,
        actor="cli:demo",
        channel="cli",
        action="create",
        target_type="household",
        target_id="000000000000426",
        purpose="デモ環境の作成",
    )
    _record(
        town_a,
        actor="143014-registry",
        channel="web",
        action="read",
        target_type="person",
        target_id="87",
        purpose="住民票の写し",
    )
    _record(
        town_a,
        actor="143014-registry",
        channel="api",
        action="read",
        target_type="brand_new_kind",
        target_id="5",
        purpose="連携",
    )
    admin = signed_in_client(make_staff(town_a, Role.ADMIN))
    page = admin.get(reverse("platform:audit"), {"purpose": "定期点検"}).content.decode()
    assert "<td>世帯 000000000000426</td>" in page
    assert "<td>住民 87</td>" in page
    assert "<td>brand_new_kind 5</td>" in page  # unknown: shown as stored
    assert "<td>コマンド（demo）</td>" in page
    assert "<td>画面</td>" in page and "<td>コマンド</td>" in page and "<td>API</td>" in page
    assert "<td>person" not in page and "<td>web</td>" not in page and "cli:demo" not in page


def test_detail_is_a_readable_table(town_a, make_staff) -> None:
    event = _record(
        town_a,
        actor="cli:demo",
        channel="cli",
        action="print",
        target_type="person",
        target_id="87",
        purpose="住民票の写し",
        detail={
            "serial": "143014-2026-000007",
            "kind": "registry.resident_copy",
            "requester": "本人",
            "items": {"本籍": True, "続柄": False},
        },
    )
    admin = signed_in_client(make_staff(town_a, Role.ADMIN))
    page = admin.get(reverse("platform:audit_detail", args=[event.pk])).content.decode()
    assert "<td>住民 87</td>" in page
    assert "コマンド（demo）（所属 143014）" in page
    assert "<th>経路・接続元</th><td>コマンド</td>" in page  # no address for a command
    assert 'data-testid="audit-detail"' in page
    assert (
        '<th>証明書番号 <span class="hint">serial</span></th>\n<td>143014-2026-000007</td>' in page
    )
    assert '<th>請求者 <span class="hint">requester</span></th>\n<td>本人</td>' in page
    pretty = '{\n  "本籍": true,\n  "続柄": false\n}'
    assert f"<td><pre>{html_lib.escape(pretty)}</pre></td>" in page
    assert "{&#x27;serial&#x27;" not in page and "True" not in page  # no Python dict
    # What is stored (and hashed) is unchanged.
    with tenant_context(town_a):
        stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.target_type == "person" and stored.channel == "cli"
    assert stored.actor_username == "cli:demo" and stored.detail["items"] == {
        "本籍": True,
        "続柄": False,
    }


def test_an_empty_detail_is_a_dash(town_a, make_staff) -> None:
    event = _record(
        town_a,
        actor="143014-admin",
        channel="web",
        action="login",
        target_type="staff",
        target_id="3",
    )
    admin = signed_in_client(make_staff(town_a, Role.ADMIN))
    page = admin.get(reverse("platform:audit_detail", args=[event.pk])).content.decode()
    assert "<tr><th>詳細</th><td>—</td></tr>" in page
    assert "<td>職員 3</td>" in page
