"""An in-process snapshot of the geo configuration, reloaded whenever ``GeoConfigVersion`` moves.

Callers read the current version in the same query as the data they check (eligibility reads it with the
player row) and pass it to :func:`snapshot`; a new version loads the three small tables again (two queries).
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class StakeCap:
    game_category: str
    max_stake: Decimal
    currency: str
    min_age: int | None = None  # the cap applies from this age...
    max_age: int | None = None  # ...up to and including this age


@dataclass(frozen=True)
class Rules:
    jurisdiction: str
    effective_from: datetime
    licensed: bool
    registration_blocked: bool
    visiting_blocked: bool
    high_risk: bool
    require_presence: bool
    min_age: int
    allowed_currencies: tuple[str, ...]
    kyc_level_to_deposit: int
    kyc_level_to_play: int
    kyc_level_to_withdraw: int
    cdd_threshold: Decimal
    cdd_currency: str
    cdd_window_days: int | None
    cdd_grace_days: int
    edd_threshold: Decimal | None
    self_exclusion_register: str
    self_exclusion_terms: tuple[str, ...]
    timeout_min_hours: int | None
    timeout_max_hours: int | None
    limit_increase_cooling_off_hours: int
    limit_confirmation_hours: int
    self_exclusion_return_hours: int
    register_check_points: tuple[str, ...]
    register_fail_open: bool
    deposit_caps: tuple[dict[str, Any], ...]
    stake_caps: tuple[StakeCap, ...]
    min_spin_seconds: Decimal | None
    reality_check_minutes: int | None
    session_break_after_minutes: int | None
    session_break_minutes: int | None
    bonus_wagering_cap: int | None
    bonus_single_product: bool = False
    bonus_first_occasion_only: bool = False
    bonus_min_days_to_wager: int | None = None
    bonus_wagering_order: str = "cash_first"
    time_zone: str = "UTC"  # the jurisdiction's calendar (limit periods)

    def max_stakes_for_age(self, age: int) -> dict[str, StakeCap]:
        """The tightest stake cap per game category that applies at ``age``."""
        caps: dict[str, StakeCap] = {}
        for cap in self.stake_caps:
            if cap.min_age is not None and age < cap.min_age:
                continue
            if cap.max_age is not None and age > cap.max_age:
                continue
            current = caps.get(cap.game_category)
            if current is None or cap.max_stake < current.max_stake:
                caps[cap.game_category] = cap
        return caps


@dataclass(frozen=True)
class Override:
    network: IPNetwork
    action: str
    country: str
    reason: str


@dataclass
class GeoSnapshot:
    version: int
    packs: dict[str, list[Rules]] = field(default_factory=dict)  # newest first
    names: dict[str, str] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)

    def rules_for(self, code: str, at: datetime) -> Rules | None:
        for rules in self.packs.get(code, ()):
            if rules.effective_from <= at:
                return rules
        return None

    def jurisdiction_code(self, country: str, region: str = "") -> str | None:
        """The most specific jurisdiction: the region's own if it has one, else the country's."""
        if region and region in self.packs:
            return region
        return country if country in self.packs else None

    def override_for(self, ip: str) -> Override | None:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        best: Override | None = None
        for override in self.overrides:
            inside = address.version == override.network.version and address in override.network
            if inside and (best is None or override.network.prefixlen > best.network.prefixlen):
                best = override  # the most specific network wins
        return best


_lock = threading.Lock()
_current: GeoSnapshot | None = None


def _stake_caps(raw: list[dict[str, Any]]) -> tuple[StakeCap, ...]:
    return tuple(
        StakeCap(
            game_category=str(c["game_category"]),
            max_stake=Decimal(str(c["max_stake"])),
            currency=str(c["currency"]),
            min_age=c.get("min_age"),
            max_age=c.get("max_age"),
        )
        for c in raw
    )


def _load(version: int) -> GeoSnapshot:
    from apps.geo.models import IpOverride, RulePack

    snap = GeoSnapshot(version=version)
    for pack in RulePack.objects.select_related("jurisdiction").order_by("jurisdiction__code", "-effective_from"):
        code = pack.jurisdiction.code
        snap.names[code] = pack.jurisdiction.name
        snap.packs.setdefault(code, []).append(
            Rules(
                jurisdiction=code,
                effective_from=pack.effective_from,
                licensed=pack.licensed,
                registration_blocked=pack.registration_blocked,
                visiting_blocked=pack.visiting_blocked,
                high_risk=pack.high_risk,
                require_presence=pack.require_presence,
                min_age=pack.min_age,
                allowed_currencies=tuple(pack.allowed_currencies),
                kyc_level_to_deposit=pack.kyc_level_to_deposit,
                kyc_level_to_play=pack.kyc_level_to_play,
                kyc_level_to_withdraw=pack.kyc_level_to_withdraw,
                cdd_threshold=pack.cdd_threshold,
                cdd_window_days=pack.cdd_window_days,
                cdd_grace_days=pack.cdd_grace_days,
                edd_threshold=pack.edd_threshold,
                cdd_currency=pack.cdd_currency,
                self_exclusion_register=pack.self_exclusion_register,
                self_exclusion_terms=tuple(pack.self_exclusion_terms),
                timeout_min_hours=pack.timeout_min_hours,
                timeout_max_hours=pack.timeout_max_hours,
                limit_increase_cooling_off_hours=pack.limit_increase_cooling_off_hours,
                limit_confirmation_hours=pack.limit_confirmation_hours,
                self_exclusion_return_hours=pack.self_exclusion_return_hours,
                register_check_points=tuple(pack.register_check_points),
                register_fail_open=pack.register_fail_open,
                deposit_caps=tuple(pack.deposit_caps),
                stake_caps=_stake_caps(pack.stake_caps),
                min_spin_seconds=pack.min_spin_seconds,
                reality_check_minutes=pack.reality_check_minutes,
                session_break_after_minutes=pack.session_break_after_minutes,
                session_break_minutes=pack.session_break_minutes,
                bonus_wagering_cap=pack.bonus_wagering_cap,
                bonus_single_product=pack.bonus_single_product,
                bonus_first_occasion_only=pack.bonus_first_occasion_only,
                bonus_min_days_to_wager=pack.bonus_min_days_to_wager,
                bonus_wagering_order=pack.bonus_wagering_order,
                time_zone=pack.jurisdiction.time_zone,
            )
        )
    for override in IpOverride.objects.filter(active=True):
        snap.overrides.append(
            Override(
                network=ipaddress.ip_network(override.network, strict=False),
                action=override.action,
                country=override.country,
                reason=override.reason,
            )
        )
    return snap


def current_version() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM geo_geoconfigversion WHERE id = 1")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def snapshot(version: int | None = None) -> GeoSnapshot:
    """The configuration at ``version`` (read it with your own query, or leave it out to read it here)."""
    global _current
    if version is None:
        version = current_version()
    current = _current
    if current is not None and current.version == version:
        return current
    with _lock:
        if _current is None or _current.version != version:
            _current = _load(version)
        return _current


def local_date(now: datetime, rules: Rules | None) -> date:
    """Today on the jurisdiction's calendar: a birthday starts at local midnight, not at UTC's."""
    if rules is None or rules.time_zone in ("", "UTC"):
        return now.date()
    return now.astimezone(ZoneInfo(rules.time_zone)).date()


def age_on(date_of_birth: date, today: date) -> int:
    return today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))
