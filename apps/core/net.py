"""The client's IP address, trusting X-Forwarded-For only for the configured number of proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest
from ipware.ip import get_client_ip

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request: HttpRequest) -> str | None:
    """Same resolution as django-axes (settings ``AXES_IPWARE_*`` are derived from ``TRUSTED_PROXY_COUNT``)."""
    ip, _routable = get_client_ip(
        request,
        proxy_count=settings.AXES_IPWARE_PROXY_COUNT,
        request_header_order=settings.AXES_IPWARE_META_PRECEDENCE_ORDER,
    )
    return ip


def ip_in_networks(ip: str | None, networks: Iterable[IPNetwork | str]) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for network in networks:
        net = ipaddress.ip_network(network, strict=False) if isinstance(network, str) else network
        if address.version == net.version and address in net:
            return True
    return False
