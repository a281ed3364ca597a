"""IP address -> country, offline (iptocc ships its data in the wheel), with staff overrides on top."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import iptocc

from apps.geo.config import GeoSnapshot


@dataclass(frozen=True)
class IpLookup:
    ip: str
    country: str | None  # None: private, reserved or unknown address
    source: str  # "lookup" | "override" | "invalid"
    blocked_by_override: bool = False
    override_reason: str = ""


def lookup(ip: str, snap: GeoSnapshot) -> IpLookup:
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return IpLookup(ip=ip, country=None, source="invalid")
    override = snap.override_for(ip)
    if override is not None:
        if override.action == "block":
            return IpLookup(ip, None, "override", blocked_by_override=True, override_reason=override.reason)
        return IpLookup(ip, override.country, "override", override_reason=override.reason)
    return IpLookup(ip=ip, country=iptocc.country_code(ip), source="lookup")
