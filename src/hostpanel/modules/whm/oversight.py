"""Token oversight, beyond cPanel (our `hp_` functions): every API token root oversees (a reseller: its accounts'),
filtered by risk, and their revocation with a notice to the owner."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.accounts.model import Service
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.tokens.record import token_record
from hostpanel.domain.whm.oversight import TokenFilter
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Param
from hostpanel.modules.whm.module import USER, module, reason, user_argument

OVERSIGHT = ("list-accts",)
REVOKING = ("kill-acct", "suspend-acct")


def _flag(call: Call, name: str) -> bool:
    return call.args.flag(name)


@module.whm(
    "hp_token_list",
    OVERSIGHT,
    "Every API token the caller oversees (root: the server's; a reseller: its accounts'), with its account, "
    "service (cpanel or whm), permissions, restrictions, created, expires and last use; filter with `user`, "
    "`unused_days`, `full_access=1`, `no_expiry=1`, `no_allowlist=1`.",
    returns_list=True,
    params=(
        Param("user", "Only this account's tokens."),
        Param("unused_days", "Only tokens unused (or never used) for this many days.", type="integer"),
        Param(
            "full_access", "1: only tokens with full access (cPanel) or all their owner's ACLs (WHM).", type="boolean"
        ),
        Param("no_expiry", "1: only tokens that never expire.", type="boolean"),
        Param("no_allowlist", "1: only tokens accepted from any address.", type="boolean"),
    ),
)
def hp_token_list(call: Call) -> dict[str, Any]:
    args = call.args
    wanted = TokenFilter(
        user=args.get("user") or None,
        unused_days=args.integer("unused_days", minimum=1, maximum=36500),
        full_access=_flag(call, "full_access"),
        no_expiry=_flag(call, "no_expiry"),
        no_allowlist=_flag(call, "no_allowlist"),
    )
    review = call.services.review_policy
    rows = []
    for token, account in call.services.oversight.tokens(wanted):
        rows.append({
            "user": account.username,
            "owner": account.owner,
            "service": token.service.value,
            **token_record(token, call.now, review),
            "acls": sorted(token.acls) if token.acls is not None else None,
        })  # fmt: skip
    return {"tokens": rows}


@module.whm(
    "hp_token_revoke",
    REVOKING,
    "Revoke one token of an account the caller reaches; the owner is told by mail.",
    writes=True,
    params=(
        USER,
        Param("token_name", "The token's name.", True),
        Param("service", "`cpanel` (default) or `whm` (a reseller's own WHM token)."),
    ),
)
def hp_token_revoke(call: Call) -> dict[str, Any]:
    user = user_argument(call)
    name = call.args.require("token_name")
    try:
        service = Service(call.args.get("service") or "cpanel")
    except ValueError:
        raise InvalidInput("service", "The “service” parameter must be “cpanel” or “whm”.") from None
    call.services.oversight.revoke(user, name, service)
    reason(call, f"Revoked the API token “{name}” of {user}.")
    return {"revoked": [name]}


@module.whm(
    "hp_token_revoke_all",
    REVOKING,
    "Revoke every token of an account at once (cPanel's and, for a reseller, WHM's): the answer to a compromised "
    "account. The owner is told by mail.",
    writes=True,
    params=(USER,),
)
def hp_token_revoke_all(call: Call) -> dict[str, Any]:
    user = user_argument(call)
    names = call.services.oversight.revoke_all(user)
    reason(call, f"Revoked {len(names)} API token(s) of {user}.")
    return {"revoked": names}
