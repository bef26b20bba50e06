"""Who is on the other end of the connection: address, scheme and user agent.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only when the direct peer is one of
``PLAYDECK_TRUSTED_PROXIES``; otherwise any client could pick the address its rate limits count
against. The chain is walked from the right, skipping trusted hops, so a client cannot prepend a
fake address either.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from starlette.requests import Request

MAX_USER_AGENT = 512
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str
    user_agent: str | None
    is_https: bool


@lru_cache(maxsize=32)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def is_trusted_proxy(address: str, trusted_proxies: list[str]) -> bool:
    """Whether the direct peer ``address`` is one of ``PLAYDECK_TRUSTED_PROXIES``."""
    return _trusted(address, _networks(tuple(trusted_proxies)))


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_info(request: Request, trusted_proxies: list[str]) -> ClientInfo:
    peer = request.client.host if request.client else "unknown"
    ip = peer
    is_https = request.url.scheme == "https"
    networks = _networks(tuple(trusted_proxies))
    if networks and _trusted(peer, networks):
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            hops = [hop.strip() for hop in forwarded.split(",")]
            for hop in reversed(hops):
                address = _valid_ip(hop)
                if address is None:
                    break  # garbage in the chain: keep the last address we could vouch for
                ip = address
                if not _trusted(address, networks):
                    break
        proto = request.headers.get("x-forwarded-proto", "")
        if proto:
            is_https = proto.split(",")[0].strip().lower() == "https"
    agent = request.headers.get("user-agent")
    return ClientInfo(
        ip=ip[:64], user_agent=agent[:MAX_USER_AGENT] if agent else None, is_https=is_https
    )
