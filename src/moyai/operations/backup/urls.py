from django.urls import path

from moyai.operations.backup import views

app_name = "backup"

urlpatterns = [
    path("", views.overview, name="overview"),
]
