from datetime import timedelta

from django.test import Client
from django.utils import timezone

from moyai.platform import services
from moyai.platform.models import ApiToken, AuditEvent, Role
from moyai.platform.outbox import emit
from moyai.platform.tenancy import tenant_context

from ..conftest import signed_in_client


def _bearer(town, make_staff, *roles):
    staff = make_staff(town, *roles)
    new = services.api_token_create(user=staff.user, name="住基連携", days=30)
    return Client(HTTP_AUTHORIZATION=f"Bearer {new.plaintext}"), new


def test_openapi_document_is_served(db) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "moyai API"
    assert "/api/v1/events" in schema["paths"]


def test_unauthenticated_calls_get_the_uniform_error(db) -> None:
    response = Client().get("/api/v1/events")
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthenticated",
        "message": "認証が必要です（トークンまたはログイン）",
        "field": "",
    }


def test_event_feed_pages_by_id_and_is_audited(town_a, make_staff) -> None:
    client, _ = _bearer(town_a, make_staff, Role.REGISTRY)
    with tenant_context(town_a):
        ids = [emit(type="registry.moved_in", subject_id=i, payload={"n": i}).pk for i in range(5)]
    first = client.get("/api/v1/events", {"limit": 3}).json()
    assert first["municipality_code"] == "143014"
    assert [e["id"] for e in first["events"]] == ids[:3]
    rest = client.get("/api/v1/events", {"after": first["next_after"]}).json()
    assert [e["id"] for e in rest["events"]] == ids[3:]
    empty = client.get("/api/v1/events", {"after": rest["next_after"]}).json()
    assert empty["events"] == [] and empty["next_after"] == ids[-1]
    with tenant_context(town_a):
        exports = list(AuditEvent.objects.filter(action="export", target_type="event_feed"))
    assert len(exports) == 2 and exports[0].channel == "api"
    assert exports[0].purpose == "外部システム連携"


def test_bad_query_names_the_field(town_a, make_staff) -> None:
    client, _ = _bearer(town_a, make_staff, Role.REGISTRY)
    response = client.get("/api/v1/events", {"limit": 5000})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and body["field"] == "limit"
    assert body["message"].startswith("入力が正しくありません")


def test_expired_revoked_and_forged_tokens_are_refused(town_a, make_staff) -> None:
    client, new = _bearer(town_a, make_staff, Role.REGISTRY)
    assert client.get("/api/v1/me").status_code == 200
    forged = new.plaintext[:-2] + ("xx" if not new.plaintext.endswith("xx") else "yy")
    assert Client(HTTP_AUTHORIZATION=f"Bearer {forged}").get("/api/v1/me").status_code == 401
    ApiToken.objects.filter(pk=new.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get("/api/v1/me").status_code == 401
    ApiToken.objects.filter(pk=new.token.pk).update(
        expires_at=timezone.now() + timedelta(days=1), revoked_at=timezone.now()
    )
    assert client.get("/api/v1/me").status_code == 401


def test_token_is_stored_hashed(town_a, make_staff) -> None:
    _, new = _bearer(town_a, make_staff, Role.REGISTRY)
    stored = ApiToken.objects.get(pk=new.token.pk)
    secret = new.plaintext.split("_")[2]
    assert secret not in stored.key_hash and len(stored.key_hash) == 64


def test_session_auth_requires_the_second_factor(town_a, make_staff) -> None:
    staff = make_staff(town_a, Role.REGISTRY)
    half = Client()
    half.force_login(staff.user, backend="django.contrib.auth.backends.ModelBackend")
    assert half.get("/api/v1/me").status_code == 401
    me = signed_in_client(staff).get("/api/v1/me").json()
    assert me["municipality_name"] == "神奈川県 葉山町" and me["roles"] == ["registry"]


def test_a_role_without_event_access_is_refused(make_staff) -> None:
    operator = make_staff(None, Role.OPERATOR, username="op1")
    response = signed_in_client(operator).get("/api/v1/events")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
