from django.urls import path

from moyai.tax.property import views

app_name = "property_tax"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("run/", views.run, name="run"),
    path("owners/<int:addressee_id>/", views.owner, name="owner"),
    path("owners/<int:addressee_id>/notice/", views.notice, name="notice"),
    path("owners/<int:addressee_id>/assets/", views.assets, name="assets"),
    path("parcels/new/", views.parcel_new, name="parcel_new"),
    path("parcels/<int:parcel_id>/", views.parcel, name="parcel"),
    path("parcels/<int:parcel_id>/edit/", views.parcel_edit, name="parcel_edit"),
    path("parcels/<int:parcel_id>/subdivide/", views.parcel_subdivide, name="parcel_subdivide"),
    path("parcels/<int:parcel_id>/merge/", views.parcel_merge, name="parcel_merge"),
    path("buildings/new/", views.building_new, name="building_new"),
    path("buildings/<int:building_id>/", views.building, name="building"),
    path("buildings/<int:building_id>/edit/", views.building_edit, name="building_edit"),
    path(
        "buildings/<int:building_id>/demolish/",
        views.building_demolish,
        name="building_demolish",
    ),
]
