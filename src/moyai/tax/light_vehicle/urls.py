from django.urls import path

from moyai.tax.light_vehicle import views

app_name = "light_vehicle_tax"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("run/", views.run, name="run"),
    path("vehicles/new/", views.vehicle_new, name="vehicle_new"),
    path("vehicles/<int:vehicle_id>/", views.vehicle, name="vehicle"),
    path("vehicles/<int:vehicle_id>/edit/", views.vehicle_edit, name="vehicle_edit"),
    path("vehicles/<int:vehicle_id>/transfer/", views.vehicle_transfer, name="vehicle_transfer"),
    path("vehicles/<int:vehicle_id>/scrap/", views.vehicle_scrap, name="vehicle_scrap"),
    path("owners/<int:addressee_id>/notice/", views.notice, name="notice"),
]
