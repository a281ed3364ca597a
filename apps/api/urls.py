from django.urls import path

from apps.api.views import ClientView

app_name = "api"

urlpatterns = [
    path("client/", ClientView.as_view(), name="client"),
]
