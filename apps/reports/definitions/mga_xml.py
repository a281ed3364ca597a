"""The MGA monthly return's XML (``mga_monthly``'s ``xml()``): a document of this project's design, namespace
``urn:pitboss:reports:mga-monthly:1``, UTF-8, the same bytes for the same data. One element per figure, each with
its currency::

    <MgaMonthlyReturn xmlns="urn:pitboss:reports:mga-monthly:1" month="2026-02" periodStart="2026-02-01"
                      periodEnd="2026-02-28" dueDate="2026-03-20" openBetHours="24">
      <GamingTax>
        <ServiceType type="1" name="Casino games (slots, table, live)">
          <Figures currency="EUR">
            <TotalWagers currency="EUR">40.00</TotalWagers>
            <BonusWagers currency="EUR">10.00</BonusWagers> ... (TotalWinnings, BonusWinnings, GrossGamingRevenue,
            MalteseWagers, MalteseWinnings, MalteseGrossGamingRevenue)
          </Figures>
        </ServiceType>
        <Totals currency="EUR"> ... the same figures, BonusCost, NetGamingRevenue, MalteseBonusCost,
          MalteseShareOfWagers (percent, no currency) </Totals>
      </GamingTax>
      <PlayerFunds>
        <Funds currency="EUR"> <CashBalances currency="EUR">..</CashBalances> BonusBalances, OpenBets,
          PendingWithdrawals, TotalPlayerFunds </Funds>
      </PlayerFunds>
      <Reconciliation>
        <Currency currency="EUR"> OpeningFunds, Deposits, WithdrawalsPaid, Wagers, Winnings, BonusAwarded,
          BonusForfeited, Adjustments, ClosingFunds, UnexplainedDifference </Currency>
      </Reconciliation>
    </MgaMonthlyReturn>

Every amount is the exact decimal at the currency's scale (``formats.money_text``); elements come in the tables'
order (currency, then type)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import date
from typing import Any

from apps.reports.formats import money_text
from apps.reports.types import Period, Table

XML_NAMESPACE = "urn:pitboss:reports:mga-monthly:1"


def document(month: Period, due: date, open_bet_hours: int, tables: list[Table]) -> bytes:
    """The XML of the report's materialised tables, in their order."""
    by_name = {table.name: table for table in tables}
    # The namespace is declared as the root's xmlns attribute and every name is plain: ElementTree's own
    # default_namespace refuses unqualified attribute names, which an XML document may well have.
    root = ET.Element(
        "MgaMonthlyReturn",
        {
            "xmlns": XML_NAMESPACE,
            "month": month.label,
            "periodStart": month.start.isoformat(),
            "periodEnd": month.end.isoformat(),
            "dueDate": due.isoformat(),
            "openBetHours": str(open_bet_hours),
        },
    )
    tax = _sub(root, "GamingTax")
    services: dict[str, Any] = {}
    for row in by_name["gaming_tax"].rows:
        currency, code, name = row[0], row[1], row[2]
        if code not in services:
            services[code] = _sub(tax, "ServiceType", type=code, name=name)
        _figures(_sub(services[code], "Figures", currency=currency), currency, _TAX_ELEMENTS, row[3:])
    for row in by_name["gaming_tax_totals"].rows:
        currency = row[0]
        totals = _sub(tax, "Totals", currency=currency)
        _figures(totals, currency, _TOTAL_ELEMENTS, row[1:-1])
        _sub(totals, "MalteseShareOfWagers", unit="percent").text = "" if row[-1] is None else format(row[-1], "f")
    funds = _sub(root, "PlayerFunds")
    for row in by_name["player_funds"].rows:
        currency = row[0]
        element = _sub(funds, "Funds", currency=currency)
        _figures(element, currency, _FUNDS_ELEMENTS[:2], row[1:3])
        _sub(element, "OpenBets", currency=currency, count=str(row[4])).text = money_text(row[3], currency)
        _figures(element, currency, _FUNDS_ELEMENTS[2:], row[5:7])
    reconciliation = _sub(root, "Reconciliation")
    for row in by_name["reconciliation"].rows:
        currency = row[0]
        _figures(_sub(reconciliation, "Currency", currency=currency), currency, _RECONCILIATION_ELEMENTS, row[1:])
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


_TAX_ELEMENTS = (
    "TotalWagers",
    "BonusWagers",
    "TotalWinnings",
    "BonusWinnings",
    "GrossGamingRevenue",
    "MalteseWagers",
    "MalteseWinnings",
    "MalteseGrossGamingRevenue",
)
_TOTAL_ELEMENTS = (
    *_TAX_ELEMENTS[:5],
    "BonusCost",
    "NetGamingRevenue",
    *_TAX_ELEMENTS[5:],
    "MalteseBonusCost",
)
_FUNDS_ELEMENTS = ("CashBalances", "BonusBalances", "PendingWithdrawals", "TotalPlayerFunds")  # and OpenBets
_RECONCILIATION_ELEMENTS = (
    "OpeningFunds",
    "Deposits",
    "WithdrawalsPaid",
    "Wagers",
    "Winnings",
    "BonusAwarded",
    "BonusForfeited",
    "Adjustments",
    "ClosingFunds",
    "UnexplainedDifference",
)


def _sub(parent: Any, tag: str, **attributes: str) -> Any:
    return ET.SubElement(parent, tag, attributes)


def _figures(parent: Any, currency: str, names: Sequence[str], values: Sequence[Any]) -> None:
    """One element per figure, in order, each with its currency and the exact amount at the currency's scale."""
    for name, value in zip(names, values, strict=True):
        _sub(parent, name, currency=currency).text = money_text(value, currency)
