"""cPanel API 2 `CustInfo::displaycontactinfo`: the account's contact address. acme.sh calls it before every change
to check that the panel answers, so a token with the `dns:read` scope may call it."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.permissions import Access, ScopeModule
from hostpanel.functions.call import Call
from hostpanel.functions.registry import API2, Module

module = Module("CustInfo", ScopeModule.DNS, "The account's contact details (cPanel API 2).", api=API2)


@module.function(
    "displaycontactinfo",
    Access.READ,
    "The account's contact email address, as cPanel's contact-information fields.",
    returns_list=True,
    uses_database=False,
)
def displaycontactinfo(call: Call) -> list[dict[str, Any]]:
    email = call.principal.account.email or ""
    return [{"name": "email", "descp": "Email Address", "type": "string", "value": email, "enabled": 1 if email else 0}]
