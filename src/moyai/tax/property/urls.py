from django.urls import path

from moyai.tax.property import views

app_name = "property_tax"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("run/", views.run, name="run"),
    path("owners/<int:addressee_id>/", views.owner, name="owner"),
    path("owners/<int:addressee_id>/notice/", views.notice, name="notice"),
    path("parcels/<int:parcel_id>/", views.parcel, name="parcel"),
]
