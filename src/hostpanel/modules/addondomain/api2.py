"""cPanel API 2 `AddonDomain`: `addaddondomain` (a domain with its own DNS zone, served from a folder of the home)
and `deladdondomain`. cPanel also makes an internal subdomain (`subdomain`) the addon domain is parked on; here the
addon domain is a site of its own and `subdomain` is only checked, so no second name serves the same folder."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.permissions import Access, Feature, ScopeModule
from hostpanel.domain.sites.model import SiteKind
from hostpanel.functions.call import Call
from hostpanel.functions.registry import API2, Module, Param

module = Module("AddonDomain", ScopeModule.DOMAINS, "Addon domains (cPanel API 2).", api=API2)


@module.function(
    "addaddondomain",
    Access.WRITE,
    "Add a domain with its own DNS zone, served from `dir` (default `public_html/<newdomain>`).",
    params=(
        Param("newdomain", "The domain to add.", True),
        Param("subdomain", "cPanel's label for the addon's subdomain (accepted; not served separately)."),
        Param("dir", "Its document root, relative to the home; made if missing."),
    ),
    feature=Feature.ADDONDOMAINS,
    own_transactions=True,
)
def addaddondomain(call: Call) -> list[dict[str, Any]]:
    site = call.services.sites.add_domain(call.args.require("newdomain"), call.args.get("dir"))
    return [{"result": 1, "reason": f"The addon domain “{site.domain}” has been created."}]


@module.function(
    "deladdondomain",
    Access.WRITE,
    "Remove an addon domain, its DNS zone and its subdomains; its files stay.",
    params=(
        Param("domain", "The addon domain.", True),
        Param("subdomain", "cPanel's internal subdomain name (accepted)."),
    ),
    feature=Feature.ADDONDOMAINS,
    own_transactions=True,
)
def deladdondomain(call: Call) -> list[dict[str, Any]]:
    site = call.services.sites.remove_domain(call.args.require("domain"), SiteKind.ADDON)
    return [{"result": 1, "reason": f"The addon domain “{site.domain}” has been removed."}]
