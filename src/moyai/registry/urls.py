from django.urls import path

from moyai.registry import views

app_name = "registry"

urlpatterns = [
    path("", views.search, name="search"),
    path("persons/<int:person_id>/", views.person_detail, name="person"),
    path("persons/<int:person_id>/history/", views.person_history, name="history"),
    path("persons/<int:person_id>/my-number/", views.reveal_my_number, name="reveal"),
    path("persons/<int:person_id>/birth/", views.birth, name="birth"),
    path("persons/<int:person_id>/move-out/", views.move_out, name="move_out"),
    path("persons/<int:person_id>/relocation/", views.relocation, name="relocation"),
    path("persons/<int:person_id>/separation/", views.separation, name="separation"),
    path("persons/<int:person_id>/death/", views.death, name="death"),
    path("persons/<int:person_id>/merge/", views.merge, name="merge"),
    path(
        "persons/<int:person_id>/authority-removal/",
        views.authority_removal,
        name="authority_removal",
    ),
    path("persons/<int:person_id>/household/", views.restructure, name="restructure"),
    path("persons/<int:person_id>/family-register/", views.family_register, name="family_register"),
    path("persons/<int:person_id>/correction/", views.correction, name="correction"),
    path("persons/<int:person_id>/copy/", views.resident_copy, name="copy"),
    path("households/<str:household_number>/", views.household, name="household"),
    path("move-in/", views.move_in, name="move_in"),
    path("movements/", views.movements, name="movements"),
    path("movements/<int:movement_number>/cancel/", views.movement_cancel, name="cancel"),
]
