from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "apps.wallet"
    label = "wallet"
    verbose_name = "Wallet and ledger"

    def ready(self) -> None:
        from apps.players.page import register_section
        from apps.players.services import register_restriction_hook
        from apps.wallet.admin import player_wallet_section
        from apps.wallet.services import withdrawals_hold_for_restriction

        register_section("admin/wallet/player_section.html", player_wallet_section, deferred=True)
        register_restriction_hook(withdrawals_hold_for_restriction)

        from apps.wallet import metrics

        metrics.register()  # the posting-event queue per consumer, on /metrics

        from apps.wallet import workqueues

        workqueues.register()  # the start page's queues: withdrawals and adjustments to approve
