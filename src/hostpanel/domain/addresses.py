"""A client's IP address as the rules about addresses (allowlists, trusted networks, counters) must see it."""

from __future__ import annotations

import ipaddress

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: str | None) -> IpAddress | None:
    """The address, or None when `text` is not one. A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d:
    that is the IPv4 address, so a rule written for it applies however the socket saw the client."""
    try:
        address = ipaddress.ip_address(text or "")
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
