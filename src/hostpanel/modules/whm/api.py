"""Every WHM API 1 function, registered on the one module of the `whm1` namespace."""

from __future__ import annotations

from hostpanel.modules.whm import accounts, batch, dns, oversight, packages, proxy, resellers, server, sessions, tokens
from hostpanel.modules.whm.module import module

__all__ = ["module"]
FUNCTIONS = (
    accounts,
    batch,
    dns,
    oversight,
    packages,
    proxy,
    resellers,
    server,
    sessions,
    tokens,
)  # importing them registers them
