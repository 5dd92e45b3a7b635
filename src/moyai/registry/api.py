"""住民記録 API: persons, households, 異動 (create and cancel), as-of queries."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from moyai.platform.api import require_api_role
from moyai.platform.errors import ServiceError
from moyai.platform.models import Role
from moyai.registry import selectors, services
from moyai.registry.models import ResidentRecord
from moyai.registry.rules import FuzzyDate, MovementKind
from moyai.registry.services import Address, NewPerson, Notification

router = Router(tags=["住民記録"])


def _role(request: HttpRequest) -> None:
    require_api_role(request, Role.REGISTRY)


# --- output ---------------------------------------------------------------------------------


class FuzzyDateSchema(Schema):
    iso: str = Field(
        description="YYYY-MM-DD（不詳の場合は並べ替え用の推定日）", pattern=r"^\d{4}-\d{2}-\d{2}$"
    )
    unknown: bool = Field(False, description="不詳フラグ")
    label: str = Field("", description="不詳表記（例: 昭和25年頃）", max_length=72)

    def value(self) -> FuzzyDate:
        return FuzzyDate(self.iso, self.unknown, self.label)


class PersonOut(Schema):
    person_id: int
    address_number: str = Field(description="宛名番号")
    resident_code: str = Field(description="住民票コード")
    seq: int = Field(description="履歴番号")
    status: str = Field(description="住民状態 1住民 2転出者 3死亡者 9その他消除者")
    kind: str = Field(description="住民種別 1日本人 2外国人")
    name: str
    name_kana: str
    kana_status: str
    name_roman: str
    alias: str
    former_surname: str
    birth_date: FuzzyDateSchema
    sex: str
    household_number: str
    is_head: bool
    relation: str = Field(description="続柄")
    relation_codes: list[str]
    head_name: str
    postal_code: str
    address: str
    address_town_code: str
    became_resident_on: str
    address_set_on: str
    previous_address: str
    destination_planned: str
    destination_confirmed: str
    removed_reason: str
    domicile: str
    domicile_head: str
    nationality: str
    residence_status: str
    movement_number: int
    movement_kind: str
    effective_from: str
    cancelled: bool

    @staticmethod
    def of(r: ResidentRecord) -> dict[str, Any]:
        return {
            **{
                k: getattr(r, k)
                for k in (
                    "seq",
                    "status",
                    "kind",
                    "name",
                    "name_kana",
                    "kana_status",
                    "name_roman",
                    "alias",
                    "former_surname",
                    "sex",
                    "household_number",
                    "is_head",
                    "relation",
                    "relation_codes",
                    "head_name",
                    "postal_code",
                    "address",
                    "address_town_code",
                    "became_resident_on",
                    "address_set_on",
                    "previous_address",
                    "destination_planned",
                    "destination_confirmed",
                    "removed_reason",
                    "domicile",
                    "domicile_head",
                    "nationality",
                    "residence_status",
                    "effective_from",
                    "cancelled",
                )
            },
            "person_id": r.person_id,
            "address_number": r.person.address_number,
            "resident_code": r.person.resident_code,
            "birth_date": {
                "iso": r.birth_date,
                "unknown": r.birth_date_unknown,
                "label": r.birth_date_label,
            },
            "movement_number": r.movement.number,
            "movement_kind": r.movement.kind,
        }


class MovementOut(Schema):
    number: int = Field(description="異動番号")
    kind: str
    warnings: list[str]
    persons: list[PersonOut]


def _movement_out(result: services.MovementResult) -> dict[str, Any]:
    return {
        "number": result.movement.number,
        "kind": result.movement.kind,
        "warnings": result.warnings,
        "persons": [PersonOut.of(r) for r in result.records],
    }


# --- reads ----------------------------------------------------------------------------------


class SearchIn(Schema):
    kana: str = ""
    name: str = ""
    birth_date: str = Field("", pattern=r"^(\d{4}-\d{2}-\d{2})?$")
    address: str = ""
    resident_code: str = ""
    address_number: str = ""
    include_removed: bool = False
    purpose: str = Field(..., min_length=1, max_length=200, description="検索の目的（監査ログ）")


@router.get("/registry/persons", response=list[PersonOut], summary="住民の検索")
def persons(request: HttpRequest, q: Query[SearchIn]) -> list[dict[str, Any]]:
    _role(request)
    query = selectors.SearchQuery(**q.dict(exclude={"purpose"}))
    return [PersonOut.of(r) for r in selectors.person_search(query=query, purpose=q.purpose)]


class AsOfIn(Schema):
    as_of: date | None = Field(None, description="この日現在の記載（省略時は最新）")
    purpose: str = Field(..., min_length=1, max_length=200)


@router.get("/registry/persons/{person_id}", response=PersonOut, summary="住民（時点指定可）")
def person(request: HttpRequest, person_id: int, q: Query[AsOfIn]) -> dict[str, Any]:
    _role(request)
    if q.as_of is None:
        return PersonOut.of(selectors.person_get(person_id=person_id, purpose=q.purpose))
    record = selectors.person_as_of(person_id=person_id, on=q.as_of, purpose=q.purpose)
    if record is None:
        raise ServiceError("その日にはまだ記載されていません", field="as_of", code="not_found")
    return PersonOut.of(record)


class PurposeIn(Schema):
    purpose: str = Field(..., min_length=1, max_length=200)


@router.get(
    "/registry/persons/{person_id}/history", response=list[PersonOut], summary="住民の異動履歴"
)
def history(request: HttpRequest, person_id: int, q: Query[PurposeIn]) -> list[dict[str, Any]]:
    _role(request)
    return [
        PersonOut.of(r) for r in selectors.person_history(person_id=person_id, purpose=q.purpose)
    ]


@router.get(
    "/registry/households/{household_number}",
    response=list[PersonOut],
    summary="世帯（時点指定可）",
)
def household(
    request: HttpRequest, household_number: str, q: Query[AsOfIn]
) -> list[dict[str, Any]]:
    _role(request)
    if q.as_of is None:
        rows = selectors.household_members(household_number=household_number, purpose=q.purpose)
    else:
        rows = selectors.household_as_of(
            household_number=household_number, on=q.as_of, purpose=q.purpose
        )
    return [PersonOut.of(r) for r in rows]


# --- 異動 -------------------------------------------------------------------------------------


class NotificationIn(Schema):
    occurred: FuzzyDateSchema = Field(description="異動日")
    notified_on: date | None = Field(None, description="届出日")
    notifier_name: str = ""
    notifier_relation: str = ""
    counter: str = ""
    note: str = ""

    def value(self) -> Notification:
        return Notification(
            self.occurred.value(),
            self.notified_on,
            self.notifier_name,
            self.notifier_relation,
            self.counter,
            self.note,
        )


class AddressIn(Schema):
    town: str = Field(..., description="町字")
    block: str = ""
    building: str = Field("", description="方書")
    town_code: str = ""
    postal_code: str = ""

    def value(self) -> Address:
        return Address(self.town, self.block, self.building, self.town_code, self.postal_code)


class NewPersonIn(Schema):
    family_name: str
    given_name: str = ""
    name_kana: str
    kana_confirmed: bool = False
    birth: FuzzyDateSchema
    sex: Literal["1", "2"]
    relation: str = Field(description="続柄（例: 世帯主, 妻, 子の妻）")
    kind: Literal["1", "2"] = "1"
    name_roman: str = ""
    alias: str = ""
    former_surname: str = ""
    domicile: str = ""
    domicile_head: str = ""
    nationality: str = ""
    residence_status: str = ""
    residence_period: str = ""
    residence_expiry: str = ""
    residence_card_number: str = ""
    article_30_45: str = ""
    resident_code: str = ""
    my_number: str = ""

    def value(self) -> NewPerson:
        data = self.dict(exclude={"birth"})
        return NewPerson(birth=self.birth.value(), **data)


class MoveInIn(Schema):
    kind: Literal["move_in"]
    notification: NotificationIn
    members: list[NewPersonIn] = Field(..., min_length=1, max_length=20)
    address: AddressIn | None = None
    household_number: str = ""
    previous_address: str
    from_abroad: bool = False


class BirthIn(Schema):
    kind: Literal["birth"]
    notification: NotificationIn
    household_number: str
    child: NewPersonIn


class MoveOutIn(Schema):
    kind: Literal["move_out"]
    notification: NotificationIn
    person_ids: list[int] = Field(..., min_length=1)
    destination: str
    abroad: bool = False
    new_head_id: int | None = None
    relations: dict[int, str] = Field(default_factory=dict)


class DeathIn(Schema):
    kind: Literal["death"]
    notification: NotificationIn
    person_id: int
    new_head_id: int | None = None
    relations: dict[int, str] = Field(default_factory=dict)


class RelocationIn(Schema):
    kind: Literal["relocation"]
    notification: NotificationIn
    person_ids: list[int] = Field(..., min_length=1)
    address: AddressIn
    new_head_id: int | None = None
    relations: dict[int, str] = Field(default_factory=dict)
    remaining_head_id: int | None = None


class SeparationIn(Schema):
    kind: Literal["household_separation"]
    notification: NotificationIn
    person_ids: list[int] = Field(..., min_length=1)
    new_head_id: int
    relations: dict[int, str] = Field(default_factory=dict)
    remaining_head_id: int | None = None


class MergeIn(Schema):
    kind: Literal["household_merge"]
    notification: NotificationIn
    person_ids: list[int] = Field(..., min_length=1)
    target_household_number: str
    relations: dict[int, str]
    remaining_head_id: int | None = None


class RestructureIn(Schema):
    kind: Literal["head_change", "household_change"]
    notification: NotificationIn
    household_number: str
    new_head_id: int
    relations: dict[int, str]


class FamilyRegisterIn(Schema):
    kind: Literal["family_register_change"]
    notification: NotificationIn
    person_id: int
    changes: dict[str, Any]


class CorrectionIn(Schema):
    kind: Literal["clerical_correction"]
    person_id: int
    changes: dict[str, Any]
    reason: str


MovementIn = Annotated[
    MoveInIn
    | BirthIn
    | MoveOutIn
    | DeathIn
    | RelocationIn
    | SeparationIn
    | MergeIn
    | RestructureIn
    | FamilyRegisterIn
    | CorrectionIn,
    Field(discriminator="kind"),
]


@router.post("/registry/movements", response={201: MovementOut}, summary="異動の登録")
def movement_create(request: HttpRequest, body: MovementIn) -> Status[dict[str, Any]]:
    """One 異動. ``kind`` selects the 届出 and its fields; refusals answer 400 with the field."""
    _role(request)
    result = _execute(body)
    return Status(201, _movement_out(result))


def _execute(b: Any) -> services.MovementResult:
    match b:
        case MoveInIn():
            return services.move_in(
                notification=b.notification.value(),
                members=[m.value() for m in b.members],
                address=b.address.value() if b.address else None,
                household_number=b.household_number,
                previous_address=b.previous_address,
                from_abroad=b.from_abroad,
            )
        case BirthIn():
            return services.birth(
                notification=b.notification.value(),
                household_number=b.household_number,
                child=b.child.value(),
            )
        case MoveOutIn():
            return services.move_out(
                notification=b.notification.value(),
                person_ids=b.person_ids,
                destination=b.destination,
                abroad=b.abroad,
                new_head_id=b.new_head_id,
                relations=b.relations,
            )
        case DeathIn():
            return services.death(
                notification=b.notification.value(),
                person_id=b.person_id,
                new_head_id=b.new_head_id,
                relations=b.relations,
            )
        case RelocationIn():
            return services.relocation(
                notification=b.notification.value(),
                person_ids=b.person_ids,
                address=b.address.value(),
                new_head_id=b.new_head_id,
                relations=b.relations,
                remaining_head_id=b.remaining_head_id,
                remaining_relations=b.relations,
            )
        case SeparationIn():
            return services.household_separation(
                notification=b.notification.value(),
                person_ids=b.person_ids,
                new_head_id=b.new_head_id,
                relations=b.relations,
                remaining_head_id=b.remaining_head_id,
                remaining_relations=b.relations,
            )
        case MergeIn():
            return services.household_merge(
                notification=b.notification.value(),
                person_ids=b.person_ids,
                target_household_number=b.target_household_number,
                relations=b.relations,
                remaining_head_id=b.remaining_head_id,
                remaining_relations=b.relations,
            )
        case RestructureIn():
            return services.household_restructure(
                notification=b.notification.value(),
                household_number=b.household_number,
                new_head_id=b.new_head_id,
                relations=b.relations,
                kind=MovementKind(b.kind),
            )
        case FamilyRegisterIn():
            return services.family_register_change(
                notification=b.notification.value(), person_id=b.person_id, changes=b.changes
            )
        case CorrectionIn():
            return services.clerical_correction(
                person_id=b.person_id, changes=b.changes, reason=b.reason
            )
    raise ServiceError("異動の種類が正しくありません", field="kind")


class CancelIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@router.post(
    "/registry/movements/{movement_number}/cancel",
    response={201: MovementOut},
    summary="異動の取消し",
)
def movement_cancel(
    request: HttpRequest, movement_number: int, body: CancelIn
) -> Status[dict[str, Any]]:
    _role(request)
    return Status(
        201,
        _movement_out(
            services.cancel_movement(movement_number=movement_number, reason=body.reason)
        ),
    )


class CopyIn(Schema):
    person_ids: list[int] = Field(..., min_length=1)
    whole_household: bool = True
    relation: bool = False
    domicile: bool = False
    resident_code: bool = False
    my_number: bool = False
    requester: str = Field(
        ..., min_length=1, max_length=50, description="本人・同一世帯員・代理人など"
    )
    purpose: str = Field(..., min_length=1, max_length=200, description="使用目的")


@router.post(
    "/registry/certificates",
    summary="住民票の写しの交付（PDF）",
    # No JSON body: the 200 response is the PDF alone. The status is an int, as in
    # ``response=``, so that the two merge into one entry of the OpenAPI document.
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
            }
        }
    },
)
def certificate(request: HttpRequest, body: CopyIn) -> HttpResponse:
    """A signed, numbered PDF; the serial is in the ``X-Moyai-Serial`` header."""
    _role(request)
    copy = services.resident_copy_issue(
        person_ids=body.person_ids,
        whole_household=body.whole_household,
        options=services.CopyOptions(
            domicile=body.domicile,
            relation=body.relation,
            resident_code=body.resident_code,
            my_number=body.my_number,
        ),
        purpose=body.purpose,
        requester=body.requester,
    )
    response = HttpResponse(copy.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{copy.serial}.pdf"'
    response["X-Moyai-Serial"] = copy.serial
    return response
