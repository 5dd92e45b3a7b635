from __future__ import annotations

import pytest
from django.urls import reverse

from moyai.platform.models import AuditEvent, Role
from moyai.platform.tenancy import tenant_context
from moyai.registry.models import ResidentRecord, ResidentStatus

from ..conftest import signed_in_client

MOVE_IN = {
    "m-occurred": "2026-04-01",
    "m-notified_on": "2026-04-03",
    "m-notifier_name": "葛飾　一郎",
    "m-notifier_relation": "本人",
    "m-counter": "本庁",
    "m-previous_address": "東京都葛飾区立石1-1",
    "a-town": "一色",
    "a-block": "100番地",
    "a-postal_code": "240-0111",
    "p-TOTAL_FORMS": "2",
    "p-INITIAL_FORMS": "0",
    "p-MIN_NUM_FORMS": "1",
    "p-MAX_NUM_FORMS": "10",
    "p-0-family_name": "葛\U000e0102飾",
    "p-0-given_name": "一郎",
    "p-0-name_kana": "カツシカ　イチロウ",
    "p-0-birth": "1970-01-15",
    "p-0-sex": "1",
    "p-0-relation": "世帯主",
    "p-0-kind": "1",
    "p-1-family_name": "葛\U000e0102飾",
    "p-1-given_name": "",
    "p-1-name_kana": "カツシカ　ハナ",
    "p-1-birth_unknown": "on",
    "p-1-birth_label": "昭和50年頃",
    "p-1-sex": "2",
    "p-1-relation": "妻",
    "p-1-kind": "1",
}


@pytest.fixture
def clerk(town_a, make_staff):
    return signed_in_client(make_staff(town_a, Role.REGISTRY))


def test_move_in_goes_through_confirmation(town_a, clerk) -> None:
    form = clerk.get(reverse("registry:move_in"))
    assert form.status_code == 200 and "転入届" in form.content.decode()
    confirm = clerk.post(reverse("registry:move_in"), MOVE_IN | {"step": "confirm"})
    html = confirm.content.decode()
    assert confirm.status_code == 200 and "内容の確認" in html and "昭和50年頃" in html
    with tenant_context(town_a):
        assert not ResidentRecord.objects.exists()  # nothing written before 登録する
    done = clerk.post(reverse("registry:move_in"), MOVE_IN | {"step": "commit"})
    assert done.status_code == 200, done.content.decode()[:2000]
    assert "登録しました" in done.content.decode()
    with tenant_context(town_a):
        head = ResidentRecord.objects.get(is_head=True)
        assert head.name == "葛\U000e0102飾　一郎"  # the IVS is stored as written
        assert head.postal_code == "2400111"
        wife = ResidentRecord.objects.get(is_head=False)
        assert wife.birth_date_unknown and wife.birth_date_label == "昭和50年頃"
    # The IVS survives to the screen.
    page = clerk.get(reverse("registry:person", args=[head.person_id])).content.decode()
    assert "葛\U000e0102飾" in page and "昭和45年1月15日" in page


def test_refusal_is_shown_at_the_field(town_a, clerk) -> None:
    bad = MOVE_IN | {"p-1-relation": "孫", "step": "commit"}
    response = clerk.post(reverse("registry:move_in"), bad)
    assert response.status_code == 400
    assert "「孫」は使えません" in response.content.decode()
    with tenant_context(town_a):
        assert not ResidentRecord.objects.exists()


def test_search_person_history_and_death(town_a, clerk) -> None:
    clerk.post(reverse("registry:move_in"), MOVE_IN | {"step": "commit"})
    found = clerk.get(reverse("registry:search"), {"name": "葛飾", "purpose": "窓口"})
    html = found.content.decode()
    assert found.status_code == 200 and "カツシカ　イチロウ" in html
    with tenant_context(town_a):
        head = ResidentRecord.objects.get(is_head=True)
        wife = ResidentRecord.objects.get(is_head=False)
    partial = clerk.get(
        reverse("registry:search"), {"kana": "かつしか", "purpose": "窓口"}, HTTP_HX_REQUEST="true"
    )
    assert "<html" not in partial.content.decode() and "葛" in partial.content.decode()
    data = {
        "occurred": "2026-05-01",
        "notified_on": "2026-05-02",
        "new_head": wife.person_id,
        "counter": "本庁",
    }
    response = clerk.post(
        reverse("registry:death", args=[head.person_id]), data | {"step": "commit"}
    )
    assert response.status_code == 200, response.content.decode()[:1500]
    with tenant_context(town_a):
        assert (
            ResidentRecord.objects.get(person=head.person, is_latest=True).status
            == ResidentStatus.DECEASED
        )
        assert ResidentRecord.objects.get(person=wife.person, is_latest=True).is_head
    history = clerk.get(reverse("registry:history", args=[head.person_id])).content.decode()
    assert "転入" in history and "死亡" in history


def test_my_number_is_shown_only_on_request_and_audited(town_a, clerk) -> None:
    clerk.post(
        reverse("registry:move_in"), MOVE_IN | {"p-0-my_number": "621498320257", "step": "commit"}
    )
    with tenant_context(town_a):
        head = ResidentRecord.objects.get(is_head=True)
    page = clerk.get(reverse("registry:person", args=[head.person_id])).content.decode()
    assert "621498320257" not in page
    shown = clerk.post(
        reverse("registry:reveal", args=[head.person_id]), {"purpose": "番号確認書類との照合"}
    ).content.decode()
    assert 'data-testid="my-number">621498320257<' in shown
    with tenant_context(town_a):
        row = AuditEvent.objects.filter(detail__field="個人番号").get()
    assert row.purpose == "番号確認書類との照合"


def test_cancel_from_the_movement_list(town_a, clerk) -> None:
    clerk.post(reverse("registry:move_in"), MOVE_IN | {"step": "commit"})
    listing = clerk.get(reverse("registry:movements")).content.decode()
    assert "取り消す" in listing
    response = clerk.post(
        reverse("registry:cancel", args=[1]), {"reason": "二重登録", "step": "commit"}
    )
    assert response.status_code == 200
    with tenant_context(town_a):
        assert set(
            ResidentRecord.objects.filter(is_latest=True).values_list("status", flat=True)
        ) == {ResidentStatus.REMOVED}


def test_other_roles_cannot_open_the_registry(town_a, make_staff) -> None:
    tax = signed_in_client(make_staff(town_a, Role.TAX))
    for name in ("registry:search", "registry:move_in", "registry:movements"):
        assert tax.get(reverse(name)).status_code == 403
    assert "住民検索" not in tax.get("/").content.decode()


def test_every_movement_screen_renders(town_a, clerk) -> None:
    clerk.post(reverse("registry:move_in"), MOVE_IN | {"step": "commit"})
    with tenant_context(town_a):
        head = ResidentRecord.objects.get(is_head=True)
    for name in (
        "relocation",
        "move_out",
        "death",
        "birth",
        "separation",
        "merge",
        "authority_removal",
        "restructure",
        "family_register",
        "correction",
        "history",
    ):
        response = clerk.get(reverse(f"registry:{name}", args=[head.person_id]))
        assert response.status_code == 200, name
    assert clerk.get(reverse("registry:household", args=[head.household_number])).status_code == 200


def test_relocation_screen_moves_the_household(town_a, clerk) -> None:
    clerk.post(reverse("registry:move_in"), MOVE_IN | {"step": "commit"})
    with tenant_context(town_a):
        rows = list(ResidentRecord.objects.filter(is_latest=True))
    data = {
        "occurred": "2026-05-01",
        "notified_on": "2026-05-02",
        "town": "堀内",
        "block": "5番地",
        "persons": [str(r.person_id) for r in rows],
    }
    confirm = clerk.post(
        reverse("registry:relocation", args=[rows[0].person_id]), data | {"step": "confirm"}
    )
    assert confirm.status_code == 200 and "堀内" in confirm.content.decode()
    done = clerk.post(
        reverse("registry:relocation", args=[rows[0].person_id]), data | {"step": "commit"}
    )
    assert done.status_code == 200, done.content.decode()[:1500]
    with tenant_context(town_a):
        assert set(
            ResidentRecord.objects.filter(is_latest=True).values_list("address_town", flat=True)
        ) == {"堀内"}


def test_resident_copy_download(town_a, clerk) -> None:
    clerk.post(reverse("registry:move_in"), MOVE_IN | {"step": "commit"})
    with tenant_context(town_a):
        head = ResidentRecord.objects.get(is_head=True)
    url = reverse("registry:copy", args=[head.person_id])
    assert clerk.get(url).status_code == 200
    refused = clerk.post(
        url, {"scope": "household", "requester": "代理人", "my_number": "on", "purpose": "提出"}
    )
    assert refused.status_code == 400
    assert "本人または同一世帯" in refused.content.decode()
    response = clerk.post(
        url,
        {"scope": "household", "requester": "本人", "relation": "on", "purpose": "銀行口座開設"},
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    serial = response["X-Moyai-Serial"]
    assert serial.startswith("143014-") and serial in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")


def test_item_certificate_from_the_screen(town_a, clerk) -> None:
    clerk.post(reverse("registry:move_in"), MOVE_IN | {"step": "commit"})
    with tenant_context(town_a):
        head = ResidentRecord.objects.get(is_head=True)
    url = reverse("registry:copy", args=[head.person_id])
    response = clerk.post(
        url,
        {"scope": "items", "items": ["name", "address"], "requester": "本人", "purpose": "年金"},
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    empty = clerk.post(url, {"scope": "items", "requester": "本人", "purpose": "年金"})
    assert empty.status_code == 400 and "項目を1つ以上" in empty.content.decode()
