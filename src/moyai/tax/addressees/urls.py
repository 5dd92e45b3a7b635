from django.urls import path

from moyai.tax.addressees import views

app_name = "tax_addressees"

urlpatterns = [
    path("", views.index, name="index"),
    path("non-residents/new/", views.non_resident_new, name="non_resident_new"),
    path("corporations/new/", views.corporation_new, name="corporation_new"),
    path("co-owners/new/", views.co_owners_new, name="co_owners_new"),
    path("<int:addressee_id>/", views.addressee, name="addressee"),
]
