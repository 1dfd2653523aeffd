"""UAPI `DomainInfo::list_domains`: the account's domains as cPanel groups them (acme.sh's `dns_cpanel_uapi` finds
the zone of a name here). Reading it needs the `dns:read` scope, which DNS clients hold."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.permissions import Access, ScopeModule
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Module

module = Module("DomainInfo", ScopeModule.DNS, "The account's domains.")


@module.function(
    "list_domains",
    Access.READ,
    "The main domain (a string), and the addon domains (the account's others); no parked or subdomains here.",
)
def list_domains(call: Call) -> dict[str, Any]:
    domains = call.services.dns.domains()
    return {
        "main_domain": domains[0] if domains else "",
        "addon_domains": domains[1:],
        "parked_domains": [],
        "sub_domains": [],
    }
