from django.urls import path

from moyai.operations.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.consortia, name="consortia"),
    path("consortia/<int:council_id>/", views.consortium, name="consortium"),
    path("consortia/<int:council_id>/members/", views.member_add, name="member_add"),
    path(
        "consortia/<int:council_id>/members/<int:membership_id>/end/",
        views.member_end,
        name="member_end",
    ),
    path("consortia/<int:council_id>/pools/", views.pool_add, name="pool_add"),
    path("consortia/<int:council_id>/pools/<int:pool_id>/end/", views.pool_end, name="pool_end"),
    path("consortia/<int:council_id>/runs/", views.run_month, name="run_month"),
    path("consortia/<int:council_id>/runs/<int:run_id>/", views.run_detail, name="run"),
    path(
        "consortia/<int:council_id>/runs/<int:run_id>/recompute/",
        views.run_recompute,
        name="run_recompute",
    ),
    path("consortia/<int:council_id>/runs/<int:run_id>/close/", views.run_close, name="run_close"),
    path("consortia/<int:council_id>/runs/<int:run_id>/csv/", views.run_csv, name="run_csv"),
    path(
        "consortia/<int:council_id>/runs/<int:run_id>/<str:code>/csv/",
        views.run_member_csv,
        name="run_member_csv",
    ),
    path(
        "consortia/<int:council_id>/runs/<int:run_id>/<str:code>/pdf/",
        views.run_member_pdf,
        name="run_member_pdf",
    ),
    path("simulate/", views.simulate, name="simulate"),
    path("statements/", views.statements, name="statements"),
    path("statements/<int:statement_id>/", views.statement_detail, name="statement"),
    path("statements/<int:statement_id>/csv/", views.statement_csv, name="statement_csv"),
    path("statements/<int:statement_id>/pdf/", views.statement_pdf, name="statement_pdf"),
]
