"""The caller's address, as the server saw it after applying trusted proxies' X-Forwarded-For."""

from __future__ import annotations

import re

from starlette.types import Scope

# IPv4, IPv6 (with an IPv4 tail or a zone), or a short name such as a test client's: what the address columns hold.
_ADDRESS = re.compile(r"[0-9A-Za-z.:%_-]{1,45}")


def client_address(scope: Scope) -> str | None:
    """The client's host when it has the shape of an address, else None.

    Behind a proxy trusted with `*`, the host is whatever the caller put in X-Forwarded-For: a longer value did not
    fit the address columns (PostgreSQL refused the audit row, and with it the whole batch of "last used" times),
    and markup or spaces in it would reach logs and terminals.
    """
    client = scope.get("client")
    host = client[0] if client else None
    return host if isinstance(host, str) and _ADDRESS.fullmatch(host) else None
