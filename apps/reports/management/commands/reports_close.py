"""manage.py reports_close [--day D] [--retake]: take the month-end closes the regulatory returns read.

Without ``--day``: every month-end from the ledger's first month that is over on every clock and not closed yet
(what the beat job ``reports_close_months`` does a few at a time). With ``--day``: that month-end only; with
``--retake`` it replaces an existing close (audited), e.g. after a player's residence was corrected. Prints each
close's figures per jurisdiction and currency; exits non-zero when a close is refused."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import ApplicationError
from apps.reports import closes


class Command(BaseCommand):
    help = "Take the month-end closes (players' funds, open bets, a quarter's accounts) the returns read."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", default=None, help="A month's last day (YYYY-MM-DD); default: every one due")
        parser.add_argument("--retake", action="store_true", help="Replace the day's existing close")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["retake"] and not options["day"]:
            raise CommandError("--retake needs --day.", returncode=2)
        if options["day"]:
            try:
                days = [date.fromisoformat(options["day"])]
            except ValueError as exc:
                raise CommandError(f"--day: {exc}", returncode=2) from exc
        else:
            days = closes.closes_due()
        if not days:
            self.stdout.write("Nothing to close: every month-end that is over is closed.")
            return
        for day in days:
            try:
                close = closes.close_take(day, retake=options["retake"])
            except ApplicationError as exc:
                raise CommandError(f"{day}: {exc.code}: {exc.message}") from exc
            self.stdout.write(f"Closed {day} in {close.seconds:.2f} s (close #{close.pk}):")
            for line in close.funds.order_by("jurisdiction", "currency"):
                self.stdout.write(
                    f"  {line.jurisdiction:6} {line.currency} cash {line.cash} bonus {line.bonus} pending "
                    f"{line.pending_withdrawals} players {line.players_with_funds} open bets {line.open_bets} "
                    f"({line.open_bet_count})"
                )
            for accounts in close.accounts.order_by("jurisdiction"):
                self.stdout.write(
                    f"  {accounts.jurisdiction:6} quarter from {close.quarter_start}: {accounts.active} active, "
                    f"{accounts.registrations} new"
                )
        self.stdout.write(self.style.SUCCESS(f"{len(days)} close(s) taken."))
