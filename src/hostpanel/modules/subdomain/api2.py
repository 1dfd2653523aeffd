"""cPanel API 2 `SubDomain`: `addsubdomain` (as UAPI's) and `delsubdomain` (`domain`: `sub.example.com`, or
cPanel's `sub_example.com`). Each answers `[{"result": 1, "reason": ...}]`."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.permissions import Access, Feature, ScopeModule
from hostpanel.functions.call import Call
from hostpanel.functions.registry import API2, Module, Param

module = Module("SubDomain", ScopeModule.DOMAINS, "Subdomains of the account's domains (cPanel API 2).", api=API2)


@module.function(
    "addsubdomain",
    Access.WRITE,
    "Create a subdomain, served before the call returns.",
    params=(
        Param("domain", "The subdomain's label(s), e.g. `blog`.", True),
        Param("rootdomain", "One of the account's domains.", True),
        Param("dir", "Its document root, relative to the home (default `public_html/<domain>`)."),
        Param("disallowdot", "1: remove the dots from `domain`.", type="integer"),
    ),
    feature=Feature.SUBDOMAINS,
    own_transactions=True,
)
def addsubdomain(call: Call) -> list[dict[str, Any]]:
    text = call.args.require("domain")
    label = text.replace(".", "") if call.args.flag("disallowdot") else text
    site = call.services.sites.add_subdomain(label, call.args.require("rootdomain"), call.args.get("dir"))
    return [{"result": 1, "reason": f"The subdomain “{site.domain}” has been added."}]


@module.function(
    "delsubdomain",
    Access.WRITE,
    "Remove a subdomain: no longer served, its A/AAAA records gone; its files stay.",
    params=(Param("domain", "The subdomain: `blog.example.com` or `blog_example.com`.", True),),
    feature=Feature.SUBDOMAINS,
    own_transactions=True,
)
def delsubdomain(call: Call) -> list[dict[str, Any]]:
    site = call.services.sites.remove_subdomain(call.args.require("domain"))
    return [{"result": 1, "reason": f"The subdomain “{site.domain}” has been removed."}]
