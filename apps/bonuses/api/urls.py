from django.urls import path

from apps.bonuses.api import views

P = "players/<str:external_id>/"
urlpatterns = [
    path(f"{P}bonuses/", views.BonusListView.as_view(), name="bonuses-list"),
    path(f"{P}bonuses/available/", views.AvailableView.as_view(), name="bonuses-available"),
    path(f"{P}bonuses/claim/", views.ClaimView.as_view(), name="bonuses-claim"),
    path(f"{P}bonuses/<int:bonus_id>/cancel/", views.CancelView.as_view(), name="bonuses-cancel"),
    path(f"{P}withdrawals/preview/", views.WithdrawalPreviewView.as_view(), name="bonuses-withdrawal-preview"),
]
