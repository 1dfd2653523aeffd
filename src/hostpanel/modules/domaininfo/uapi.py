"""UAPI `DomainInfo`: the account's domains as cPanel groups them (acme.sh's `dns_cpanel_uapi` finds the zone of a
name in `list_domains`), and each site's data (`domains_data`, `single_domain_data`). Reading them needs the
`dns:read` scope, which DNS clients hold, and no feature (as cPanel)."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.permissions import Access, ScopeModule
from hostpanel.domain.sites.model import Site, SiteKind
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Module, Param

module = Module("DomainInfo", ScopeModule.DNS, "The account's domains and sites.")

_TYPES = {
    SiteKind.MAIN: "main_domain",
    SiteKind.ADDON: "addon_domain",
    SiteKind.SUB: "sub_domain",
    SiteKind.PARKED: "parked_domain",
}


def _names(sites: list[Site], kind: SiteKind) -> list[str]:
    return [site.domain for site in sites if site.kind == kind]


@module.function(
    "list_domains",
    Access.READ,
    "The main domain (a string), and lists of the addon, parked (alias) and subdomains.",
)
def list_domains(call: Call) -> dict[str, Any]:
    sites = call.services.sites.sites()
    main = _names(sites, SiteKind.MAIN)
    return {
        "main_domain": main[0] if main else "",
        "addon_domains": _names(sites, SiteKind.ADDON),
        "parked_domains": _names(sites, SiteKind.PARKED),
        "sub_domains": _names(sites, SiteKind.SUB),
    }


def _data(call: Call, site: Site) -> dict[str, Any]:
    """One site as cPanel's `domains_data` describes a virtual host."""
    home = call.services.sites.home()
    return {
        "domain": site.domain,
        "servername": site.domain,
        "serveralias": " ".join(site.server_names[1:]),
        "documentroot": f"{home}/{site.docroot}" if site.docroot else home,
        "homedir": home,
        "user": call.principal.account.username,
        "type": _TYPES[site.kind],
        "rootdomain": site.rootdomain or "",
    }


@module.function(
    "domains_data",
    Access.READ,
    "Each site's data (domain, servername, serveralias, documentroot, homedir, user, type): `main_domain` an object, "
    "`addon_domains` and `sub_domains` lists of objects, `parked_domains` a list of names.",
    params=[Param("format", "`hash` (the default) or `list` (every site, parked domains included, in one list).")],
)
def domains_data(call: Call) -> Any:
    sites = call.services.sites.sites()
    if (call.args.get("format") or "hash") == "list":
        return [_data(call, site) for site in sites]
    main = [_data(call, site) for site in sites if site.kind == SiteKind.MAIN]
    return {
        "main_domain": main[0] if main else {},
        "addon_domains": [_data(call, site) for site in sites if site.kind == SiteKind.ADDON],
        "sub_domains": [_data(call, site) for site in sites if site.kind == SiteKind.SUB],
        "parked_domains": _names(sites, SiteKind.PARKED),
    }


@module.function(
    "single_domain_data",
    Access.READ,
    "One site's data, as `domains_data` gives it.",
    params=[Param("domain", "One of the account's domains or subdomains.", True)],
)
def single_domain_data(call: Call) -> dict[str, Any]:
    return _data(call, call.services.sites.site(call.args.require("domain")))
