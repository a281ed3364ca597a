"""The client's IP address, trusting X-Forwarded-For only for the configured number of proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest
from ipware.ip import get_client_ip

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_UNSET = object()


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, resolved once per request (RequestIdMiddleware) and remembered on it.

    Without trusted proxies it is the socket's address. Behind proxies, the same resolution as django-axes
    (settings ``AXES_IPWARE_*`` derive from ``TRUSTED_PROXY_COUNT``): python-ipware costs ~0.1 ms a call.
    """
    cached = getattr(request, "_pitboss_client_ip", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    if not settings.AXES_IPWARE_PROXY_COUNT:
        ip = request.META.get("REMOTE_ADDR") or None
    else:
        ip, _routable = get_client_ip(
            request,
            proxy_count=settings.AXES_IPWARE_PROXY_COUNT,
            request_header_order=settings.AXES_IPWARE_META_PRECEDENCE_ORDER,
        )
    request._pitboss_client_ip = ip  # type: ignore[attr-defined]
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
