"""月次の確定 in the background: the screen asks for it (audited in each member's log), the
task issues the statements (one member at a time, never twice), and the page follows it:
作成中, 確定, or stopped with the reason and a way to continue."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks_db.models import DBTaskResult

from moyai.documents.models import IssuedDocument
from moyai.operations.billing import services
from moyai.operations.billing.models import AllocationRun, RunStatus, Statement
from moyai.operations.billing.tasks import close_month
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent
from moyai.platform.tenancy import current_tenant, tenant_context

from .arrange import traces

pytestmark = pytest.mark.django_db

TASK_PATH = "moyai.operations.billing.tasks.close_month"


def _url(run: AllocationRun, suffix: str = "") -> str:
    return f"/operations/billing/consortia/{run.council_id}/runs/{run.pk}/{suffix}"


def _serials(towns) -> dict[str, str]:
    result = {}
    for town in towns:
        with tenant_context(town):
            result[town.code] = Statement.objects.get().document_serial
    return result


def test_the_button_asks_and_the_worker_closes(consortium, this_month, operator) -> None:
    towns = consortium["towns"]
    run = services.allocation_run(council=consortium["council"], month=this_month)
    before = traces(towns)

    response = operator.post(_url(run, "close/"))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.CLOSING and run.close_requested_by == "op-billing"
    # Nothing was rendered in the request: no statement issued, only the request recorded.
    assert _serials(towns) == {t.code: "" for t in towns}
    after = traces(towns)
    for town in towns:
        assert after[town.code] == (before[town.code][0] + 1, *before[town.code][1:])
        with tenant_context(town):
            asked = AuditEvent.objects.filter(purpose__endswith="分の確定の依頼").get()
        assert (asked.actor_username, asked.channel, asked.target_type) == (
            "op-billing",
            "web",
            "billing_statement",
        )
        assert asked.detail == {"run": run.pk, "run_total": run.total, "again": False}
    task = DBTaskResult.objects.get(task_path=TASK_PATH)
    assert task.args_kwargs == {"args": [run.pk], "kwargs": {}}
    page = operator.get(_url(run)).content.decode()
    assert 'data-testid="closing"' in page and "0／3団体" in page
    assert "確定して請求明細書を発行する" not in page

    # The month is frozen while the statements are made.
    with pytest.raises(ServiceError, match="確定の処理中のため再計算できません"):
        services.allocation_run(council=consortium["council"], month=this_month)
    with pytest.raises(ServiceError, match="確定の処理中のため"):
        services.membership_end(
            membership=consortium["council"].billing_memberships.first(),
            left_on=this_month - timedelta(days=1),
        )

    assert close_month.call(run.pk) == 3  # what `moyai worker` does
    run.refresh_from_db()
    assert run.status == RunStatus.CLOSED and run.closed_by == "op-billing"
    assert run.close_issued == 3
    serials = _serials(towns)
    assert all(serials.values())
    for town in towns:
        with tenant_context(town):
            issued = AuditEvent.objects.filter(purpose__endswith="分の確定").get()
            assert issued.actor_username == "task:" + TASK_PATH and issued.channel == "task"
            assert Statement.objects.get().status == RunStatus.CLOSED
    page = operator.get(_url(run)).content.decode()
    assert 'data-testid="closed"' in page and "確定し、各団体の請求明細書を発行しました" in page
    assert 'data-testid="closing"' not in page

    # A second run of the same close does nothing more.
    done = traces(towns)
    assert close_month.call(run.pk) == 3
    assert traces(towns) == done and _serials(towns) == serials

    # Asking again for a closed month is refused and leaves no trace.
    r = operator.post(_url(run, "close/"), follow=True)
    assert "すでに確定しています" in r.content.decode()
    assert traces(towns) == done and DBTaskResult.objects.count() == 1


def test_a_second_request_while_closing_is_refused(consortium, this_month, cli_actor) -> None:
    towns = consortium["towns"]
    run = services.allocation_run(council=consortium["council"], month=this_month)
    services.allocation_close_request(run=run)
    before = traces(towns)
    with pytest.raises(ServiceError, match="確定の処理中です") as exc:
        services.allocation_close_request(run=run)
    assert exc.value.field == "month"
    assert traces(towns) == before and DBTaskResult.objects.count() == 1


def test_a_stopped_close_is_shown_and_continues_where_it_stopped(
    consortium, this_month, operator, monkeypatch
) -> None:
    from moyai.documents import services as documents

    a, b, c = consortium["towns"]  # issued in 団体コード order: a, then b stops it
    run = services.allocation_run(council=consortium["council"], month=this_month)
    operator.post(_url(run, "close/"))
    real_issue = documents.document_issue

    def failing(**kwargs):
        if current_tenant().id == b.pk:
            raise RuntimeError("フォントを読み込めません")
        return real_issue(**kwargs)

    monkeypatch.setattr(documents, "document_issue", failing)
    with pytest.raises(RuntimeError):
        close_month.call(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.CLOSING and run.close_issued == 1
    assert run.close_error == "RuntimeError: フォントを読み込めません"
    first = _serials((a, b, c))
    assert first[a.code] and not first[b.code] and not first[c.code]
    page = operator.get(_url(run)).content.decode()
    assert 'data-testid="close-failed"' in page and "フォントを読み込めません" in page
    assert "1／3団体" in page and "もう一度確定を依頼する" in page

    monkeypatch.setattr(documents, "document_issue", real_issue)
    assert operator.post(_url(run, "close/")).status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.CLOSING and run.close_error == ""
    with tenant_context(b):
        again = AuditEvent.objects.filter(purpose__endswith="分の確定の依頼").order_by("seq")
        assert [e.detail["again"] for e in again] == [False, True]
    assert close_month.call(run.pk) == 3
    run.refresh_from_db()
    assert run.status == RunStatus.CLOSED
    serials = _serials((a, b, c))
    assert serials[a.code] == first[a.code] and all(serials.values())  # a not issued twice
    with tenant_context(a):
        assert IssuedDocument.objects.count() == 1


def test_the_cli_closes_in_the_foreground(consortium, this_month, cli_actor) -> None:
    council = consortium["council"]
    month = f"{this_month:%Y-%m}"
    run = services.allocation_run(council=council, month=this_month)
    # A close asked for on the screen whose task never ran: the command finishes it.
    services.allocation_close_request(run=run)
    out = io.StringIO()
    call_command("billing", "close", "--council", council.name, "--month", month, stdout=out)
    assert "確定しました（請求明細書 3件）" in out.getvalue()
    run.refresh_from_db()
    assert run.status == RunStatus.CLOSED
    with pytest.raises(CommandError, match="すでに確定"):
        call_command("billing", "close", "--council", council.name, "--month", month)
    with pytest.raises(CommandError, match="まだ計算していません"):
        call_command("billing", "close", "--council", council.name, "--month", "2020-04")


def test_the_foreground_close_is_all_or_nothing(
    consortium, this_month, cli_actor, monkeypatch
) -> None:
    from moyai.documents import services as documents

    towns = consortium["towns"]
    run = services.allocation_run(council=consortium["council"], month=this_month)
    before = traces(towns)
    real_issue = documents.document_issue

    def failing(**kwargs):
        if current_tenant().id == towns[2].pk:
            raise RuntimeError("stop")
        return real_issue(**kwargs)

    monkeypatch.setattr(documents, "document_issue", failing)
    with pytest.raises(RuntimeError):
        services.allocation_close(run=run)
    run.refresh_from_db()
    assert run.status == RunStatus.DRAFT and run.close_requested_at is None
    assert traces(towns) == before and _serials(towns) == {t.code: "" for t in towns}


def test_close_perform_refuses_a_month_not_requested(consortium, this_month, cli_actor) -> None:
    run = services.allocation_run(council=consortium["council"], month=this_month)
    with pytest.raises(ServiceError, match="確定は依頼されていません"):
        services.allocation_close_perform(run_id=run.pk)
    assert AllocationRun.objects.get().status == RunStatus.DRAFT


def test_pools_and_joins_before_a_closing_month_are_refused(
    consortium, this_month, cli_actor, make_town
) -> None:
    run = services.allocation_run(council=consortium["council"], month=this_month)
    services.allocation_close_request(run=run)
    with pytest.raises(ServiceError, match="確定の処理中のため") as exc:
        services.membership_add(
            council=consortium["council"],
            municipality=make_town("143618", "中井町"),
            joined_on=date(this_month.year, this_month.month, 1),
        )
    assert exc.value.field == "joined_on"
    with pytest.raises(ServiceError, match="確定の処理中です"):
        services.pool_create(
            council=consortium["council"],
            data=services.PoolData(
                name="追加",
                category="licences",
                rule="equal_population",
                amount=1,
                valid_from=this_month,
            ),
        )
