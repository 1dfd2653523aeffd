"""UAPI `SubDomain::addsubdomain`: a name below one of the account's domains, served by nginx from a folder of the
home before the call returns, with its A (and AAAA) record in that domain's zone. (UAPI has no function to remove
one: cPanel's is API 2's `SubDomain::delsubdomain`.)"""

from __future__ import annotations

from hostpanel.domain.permissions import Access, Feature, ScopeModule
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Module, Param

module = Module("SubDomain", ScopeModule.DOMAINS, "Subdomains of the account's domains.")

PARAMS = (
    Param("domain", "The subdomain's label(s), e.g. `blog` (for blog.example.com).", True),
    Param("rootdomain", "One of the account's domains (main, addon or parked).", True),
    Param("dir", "Its document root, relative to the home (default `public_html/<domain>`); made if missing."),
    Param("disallowdot", "1: remove the dots from `domain` (cPanel's option).", type="integer"),
    Param("canoff", "Accepted for cPanel's clients; it concerns Apache only.", type="integer"),
)


def label(call: Call) -> str:
    text = call.args.require("domain")
    return text.replace(".", "") if call.args.flag("disallowdot") else text


@module.function(
    "addsubdomain",
    Access.WRITE,
    "Create a subdomain, served before the call returns.",
    params=PARAMS,
    feature=Feature.SUBDOMAINS,
    own_transactions=True,
)
def addsubdomain(call: Call) -> None:
    call.services.sites.add_subdomain(label(call), call.args.require("rootdomain"), call.args.get("dir"))
