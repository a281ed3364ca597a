from django.urls import path

from apps.wallet.api import views

urlpatterns = [
    path("wallet/transactions/", views.TransactionView.as_view(), name="wallet-transactions"),
    path("players/<str:external_id>/balance/", views.BalanceView.as_view(), name="player-balance"),
    path("players/<str:external_id>/transactions/", views.PlayerTransactionsView.as_view(), name="player-transactions"),
    path("players/<str:external_id>/withdrawals/", views.WithdrawalListView.as_view(), name="player-withdrawals"),
    path(
        "players/<str:external_id>/withdrawals/<int:withdrawal_id>/cancel/",
        views.WithdrawalCancelView.as_view(),
        name="player-withdrawal-cancel",
    ),
]
