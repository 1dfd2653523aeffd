"""cPanel API 2 `Park`: `park` (an alias: a domain with its own DNS zone, serving another domain's site) and
`unpark`."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.permissions import Access, Feature, ScopeModule
from hostpanel.domain.sites.model import SiteKind
from hostpanel.functions.call import Call
from hostpanel.functions.registry import API2, Module, Param

module = Module("Park", ScopeModule.DOMAINS, "Parked domains, cPanel's aliases (cPanel API 2).", api=API2)


@module.function(
    "park",
    Access.WRITE,
    "Park `domain` on the main domain (or on `topdomain`, an addon domain): it serves that site.",
    params=(
        Param("domain", "The domain to park.", True),
        Param("topdomain", "The domain whose site it serves (default: the main domain)."),
    ),
    feature=Feature.PARKEDDOMAINS,
    own_transactions=True,
)
def park(call: Call) -> list[dict[str, Any]]:
    sites = call.services.sites
    target = call.args.get("topdomain") or next(s.domain for s in sites.sites() if s.kind == SiteKind.MAIN)
    site = sites.add_domain(call.args.require("domain"), parked_on=target)
    return [{"result": 1, "reason": f"“{site.domain}” was parked on “{site.rootdomain}”."}]


@module.function(
    "unpark",
    Access.WRITE,
    "Remove a parked domain and its DNS zone.",
    params=(Param("domain", "The parked domain.", True),),
    feature=Feature.PARKEDDOMAINS,
    own_transactions=True,
)
def unpark(call: Call) -> list[dict[str, Any]]:
    site = call.services.sites.remove_domain(call.args.require("domain"), SiteKind.PARKED)
    return [{"result": 1, "reason": f"“{site.domain}” was removed."}]
