from django.urls import path

from moyai.tax.light_vehicle import views

app_name = "light_vehicle_tax"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("run/", views.run, name="run"),
    path("vehicles/<int:vehicle_id>/", views.vehicle, name="vehicle"),
    path("owners/<int:addressee_id>/notice/", views.notice, name="notice"),
]
