from django.urls import path

from moyai.disaster import views

app_name = "disaster"

urlpatterns = [
    path("", views.index, name="index"),
    path("roster/", views.roster, name="roster"),
    path("<int:disaster_id>/", views.detail, name="detail"),
    path("<int:disaster_id>/build/", views.build, name="build"),
    path("<int:disaster_id>/refresh/", views.refresh, name="refresh"),
    path("<int:disaster_id>/households/", views.households, name="households"),
    path("<int:disaster_id>/dwellings/", views.dwellings, name="dwellings"),
    path("<int:disaster_id>/shelters/", views.shelters, name="shelters"),
    path("<int:disaster_id>/safety/", views.safety, name="safety"),
    path("<int:disaster_id>/programmes/", views.programmes, name="programmes"),
    path("<int:disaster_id>/gaps/", views.gaps, name="gaps"),
    path("households/<int:household_id>/", views.household, name="household"),
    path("households/<int:household_id>/certificate/", views.certificate, name="certificate"),
    path("dwellings/<int:dwelling_id>/", views.dwelling, name="dwelling"),
    path("shelters/<int:shelter_id>/", views.shelter, name="shelter"),
    path("programmes/<int:programme_id>/", views.programme, name="programme"),
]
