from django.urls import path

from moyai.tax.resident import views

app_name = "resident_tax"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("upload/", views.upload, name="upload"),
    path("queue/", views.queue, name="queue"),
    path("documents/<int:document_id>/", views.document, name="document"),
    path("run/", views.run, name="run"),
    path("progress/", views.progress, name="progress"),
    path("persons/<int:person_id>/", views.person, name="person"),
    path("persons/<int:person_id>/declaration/", views.declaration, name="declaration"),
    path("persons/<int:person_id>/certificate/", views.certificate, name="certificate"),
    path("persons/<int:person_id>/notice/", views.notice, name="notice"),
    path("employers/<int:employer_id>/notice/", views.special_notice, name="special_notice"),
    path("parameters/", views.parameters, name="parameters"),
]

public_patterns = [
    path("<str:code>/", views.simulate_public, name="simulate"),
]
