from django.urls import path

from moyai.documents import views

app_name = "documents"

urlpatterns = [
    path("verify/", views.verify_index, name="verify_index"),
    path("verify/<str:serial>/", views.verify, name="verify"),
]
