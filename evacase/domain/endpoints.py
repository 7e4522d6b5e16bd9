"""Where event deliveries may go: an `https://` URL whose host resolves only to public addresses (never loopback,
private, link-local, metadata, multicast or reserved ones), checked when an endpoint is configured and again at
every delivery, which then connects to the address it checked (a DNS answer that changes in between cannot
redirect it). `allow_insecure` (EVACASE_EVENT_EXPORTS_ALLOW_INSECURE, for development and tests) also allows
`http://` and loopback addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
RESOLVE_SECONDS = 3.0  # a name that takes longer to resolve is refused (the request stays bounded)


class UnsafeEndpoint(ValueError):
    """An endpoint evacase does not deliver to; the message says why."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    scheme: str
    host: str
    port: int


def parse_endpoint(url: str, allow_insecure: bool) -> Endpoint:
    """The endpoint's parts, if its form is acceptable (the address is checked by `resolve_endpoint`)."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeEndpoint(f"the endpoint is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeEndpoint("the endpoint is not a valid URL") from None
    allowed = ("https", "http") if allow_insecure else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeEndpoint("the endpoint must be an https:// URL")
    if not parts.hostname:
        raise UnsafeEndpoint("the endpoint has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeEndpoint("the endpoint must not carry credentials (use its Authorization)")
    if parts.fragment:
        raise UnsafeEndpoint("the endpoint must not have a fragment")
    return Endpoint(url, parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80))


def address_refusal(address: str, allow_insecure: bool) -> str | None:
    """Why evacase does not deliver to `address` (None: it may)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_insecure else "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private or not ip.is_global:
        return "a private or reserved address"
    return None


async def resolve_endpoint(endpoint: Endpoint, allow_insecure: bool) -> list[str]:
    """The endpoint's addresses, all of them acceptable, or UnsafeEndpoint."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            infos = await loop.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, TimeoutError):
        raise UnsafeEndpoint(f"the endpoint's host {endpoint.host!r} does not resolve") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeEndpoint(f"the endpoint's host {endpoint.host!r} does not resolve")
    for address in addresses:
        reason = address_refusal(address, allow_insecure)
        if reason is not None:
            raise UnsafeEndpoint(f"the endpoint's host {endpoint.host!r} resolves to {reason} ({address})")
    return addresses
