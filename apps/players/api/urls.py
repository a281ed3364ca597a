from django.urls import path

from apps.players.api import views

urlpatterns = [
    path("players/", views.PlayerListView.as_view(), name="players"),
    path("players/<str:external_id>/", views.PlayerDetailView.as_view(), name="player"),
    path("players/<str:external_id>/eligibility/", views.EligibilityView.as_view(), name="player-eligibility"),
    path("players/<str:external_id>/logins/", views.LoginView.as_view(), name="player-logins"),
    path("geo/check/", views.GeoCheckView.as_view(), name="geo-check"),
]
