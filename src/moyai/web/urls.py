from django.urls import include, path

from moyai.operations.metrics import views as metrics_views
from moyai.tax.resident.urls import public_patterns as resident_tax_public
from moyai.web import views
from moyai.web.api import api

web_patterns = (
    [
        path("", views.home, name="home"),
        path("login/", views.login_view, name="login"),
        path("logout/", views.logout_view, name="logout"),
        path("support/<int:grant_id>/enter/", views.support_enter, name="support_enter"),
        path("support/exit/", views.support_exit, name="support_exit"),
    ],
    "web",
)

urlpatterns = [
    path("", include(web_patterns)),
    path("platform/", include("moyai.platform.urls")),
    path("registry/", include("moyai.registry.urls")),
    path("documents/", include("moyai.documents.urls")),
    path("exchange/", include("moyai.exchange.urls")),
    path("tax/resident/", include("moyai.tax.resident.urls")),
    path("tax/property/", include("moyai.tax.property.urls")),
    path("tax/light-vehicle/", include("moyai.tax.light_vehicle.urls")),
    path("disaster/", include("moyai.disaster.urls")),
    path("tax/addressees/", include("moyai.tax.addressees.urls")),
    path("operations/billing/", include("moyai.operations.billing.urls")),
    path("operations/backup/", include("moyai.operations.backup.urls")),
    path(
        "public/tax/simulate/",
        include((resident_tax_public, "resident_tax_public")),
    ),
    path("api/v1/", api.urls),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_views.metrics, name="metrics"),
]
