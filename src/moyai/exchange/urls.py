from django.urls import path

from moyai.exchange import views

app_name = "exchange"

urlpatterns = [
    path("gaiji/", views.queue, name="gaiji_queue"),
    path("gaiji/<int:item_id>/", views.identify, name="gaiji_identify"),
]
