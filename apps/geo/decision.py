"""Geo decisions that explain themselves: which jurisdiction and rule allowed or blocked, with reason codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from apps.geo.config import GeoSnapshot, Rules
from apps.geo.iplookup import IpLookup, lookup

PLAY = "play"  # login, game launch, bet, deposit, bonus
REGISTRATION = "registration"
WITHDRAWAL = "withdrawal"


@dataclass
class GeoDecision:
    jurisdiction: str | None
    rules: Rules | None
    ip: IpLookup | None = None
    denials: list[tuple[str, str]] = field(default_factory=list)  # (reason code, why)
    explanation: list[str] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return list(dict.fromkeys(code for code, _ in self.denials))

    @property
    def allowed(self) -> bool:
        return not self.denials

    def deny(self, code: str, why: str) -> None:
        self.denials.append((code, why))
        self.explanation.append(f"{code}: {why}")

    def note(self, why: str) -> None:
        self.explanation.append(why)

    def as_dict(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "reasons": list(self.reasons),
            "jurisdiction": self.jurisdiction,
            "ip_country": self.ip.country if self.ip else None,
            "ip_source": self.ip.source if self.ip else None,
            "explanation": list(self.explanation),
        }


def decide(
    snap: GeoSnapshot, *, country: str, region: str = "", ip: str | None = None, at: datetime, purpose: str = PLAY
) -> GeoDecision:
    code = snap.jurisdiction_code(country, region)
    rules = snap.rules_for(code, at) if code else None
    decision = GeoDecision(jurisdiction=code, rules=rules)
    where = f"{country}{'/' + region if region else ''}"
    if purpose != WITHDRAWAL:
        if code is None:
            decision.deny("jurisdiction_blocked", f"residence {where} is in no jurisdiction the operator serves")
        elif rules is None:
            decision.deny("jurisdiction_blocked", f"jurisdiction {code} has no rule pack in effect")
        else:
            decision.note(f"residence {where} -> jurisdiction {code}, rules from {rules.effective_from:%Y-%m-%d}")
            if not rules.licensed:
                decision.deny("jurisdiction_blocked", f"{code} is not a licensed market")
            elif purpose == REGISTRATION and rules.registration_blocked:
                decision.deny("registration_blocked", f"{code} is closed to new registrations")
            elif purpose == PLAY and rules.visiting_blocked:
                decision.deny("jurisdiction_blocked", f"{code} is blocked for login and play")
    if ip:
        _check_ip(decision, snap, ip=ip, country=country, at=at, purpose=purpose)
    return decision


def _check_ip(decision: GeoDecision, snap: GeoSnapshot, *, ip: str, country: str, at: datetime, purpose: str) -> None:
    found = lookup(ip, snap)
    decision.ip = found
    if found.source == "invalid":
        decision.deny("ip_invalid", f"{ip!r} is not an IP address")
        return
    if found.blocked_by_override:
        decision.deny("ip_blocked", f"{ip} is in a blocked network ({found.override_reason})")
        return
    if purpose == WITHDRAWAL:
        return
    via = f" (override: {found.override_reason})" if found.source == "override" else ""
    if found.country is None:
        decision.note(f"{ip} has no country (private or reserved address)")
        if decision.rules is not None and decision.rules.require_presence:
            decision.deny("ip_country_unknown", f"{decision.jurisdiction} requires play from inside the market")
        return
    decision.note(f"{ip} -> {found.country}{via}")
    ip_code = snap.jurisdiction_code(found.country)
    ip_rules = snap.rules_for(ip_code, at) if ip_code else None
    # An IP resolves to a country, not a state: a New Jersey resident on a US address is not refused because
    # the rest of the US is blocked. Placing the device inside the state is the platform's geo-fencing.
    licensed_region_at_home = found.country == country and decision.jurisdiction not in (None, ip_code)
    if ip_rules is not None and ip_rules.visiting_blocked and not licensed_region_at_home:
        decision.deny("ip_country_blocked", f"{found.country} ({ip_code}) is blocked for login and play")
    rules = decision.rules
    if rules is not None and rules.require_presence and found.country != country:
        decision.deny(
            "ip_country_mismatch", f"{decision.jurisdiction} requires play from {country}, IP is in {found.country}"
        )
