from django.urls import path

from moyai.platform import views

app_name = "platform"

urlpatterns = [
    path("audit/", views.audit_search, name="audit"),
    path("audit/<int:audit_id>/", views.audit_detail, name="audit_detail"),
    path("grants/", views.grants, name="grants"),
    path("grants/<int:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("staff/", views.staff, name="staff"),
    path("profile/", views.profile, name="profile"),
    path("operator/tenants/", views.tenants, name="tenants"),
]
