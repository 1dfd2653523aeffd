"""WHM's API token functions: the caller's own WHM tokens (root's or a reseller's), with ACLs, IP allowlists and
expiry, never beyond what the caller holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hostpanel.domain.errors import HostpanelError, InvalidInput
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.tokens.model import ApiToken, TokenQuery, parse_expires_at, parse_grace_period, parse_max_uses
from hostpanel.domain.tokens.record import lifecycle_fields
from hostpanel.domain.tokens.restrictions import IpAllowlist, Restrictions
from hostpanel.domain.tokens.service import KEEP
from hostpanel.domain.whm.access import privileges
from hostpanel.domain.whm.acls import Privileges
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Param
from hostpanel.modules.whm.module import module

NAME = Param("token_name", "The token's name: 1-50 characters from a-z A-Z 0-9 _ -.", True)
ACL = Param("acl", "An ACL the token holds (repeat as acl-1, acl-2, ...); none: all of the caller's.", repeated=True)
EXPIRES = Param("expires_at", "When it stops working, in Unix seconds; 0 or absent: never.", type="integer")
WHITELIST = Param("whitelist_ip", "An address or CIDR range it is accepted from (repeatable; at most 100).")
MAX_USES = Param(
    "max_uses", "How many requests it may make in all (1: one-shot); absent: no limit. Ours.", type="integer"
)


@contextmanager
def _failing(prefix: str) -> Iterator[None]:
    """cPanel prefixes every failure of these functions with what failed."""
    try:
        yield
    except HostpanelError as error:
        error.message = prefix + error.message
        error.args = (error.message,)
        raise


def _acls(call: Call) -> frozenset[str] | None:
    names = [name for name in call.args.get_multiple("acl") if name]
    return frozenset(names) if names else None


def _record(token: ApiToken, with_acls: bool = True) -> dict[str, Any]:
    """cPanel's token fields: `acls` and `whitelist_ips` only when the token has them; then ours."""
    record: dict[str, Any] = {"name": token.name, "create_time": token.created_at, "expires_at": token.expires_at}
    if with_acls and token.acls is not None:
        record["acls"] = sorted(token.acls)
    allowlist = token.restrictions.get(IpAllowlist)
    if allowlist is not None:
        record["whitelist_ips"] = allowlist.public()
    return record


@module.whm(
    "api_token_create",
    (),
    "Create a WHM API token of the caller's; the secret is in `data.token`, shown this once.",
    writes=True,
    params=(NAME, ACL, EXPIRES, WHITELIST, MAX_USES),
)
def api_token_create(call: Call) -> dict[str, Any]:
    with _failing("The system failed to create the API token: "):
        name = call.args.get("token_name")
        if not name:
            raise InvalidInput("token_name", "The parameter “token_name” is required.")
        expires_at = parse_expires_at(call.args.get("expires_at"), call.now)
        addresses = call.args.optional_multiple("whitelist_ip")
        restrictions = Restrictions.of(IpAllowlist.parse(addresses) if addresses else None)
        max_uses = parse_max_uses(call.args.get("max_uses"))
        issued = call.services.tokens.create(
            call.principal, name, expires_at, Permissions.full(), restrictions, acls=_acls(call), max_uses=max_uses
        )
    return {**_record(issued.token), "token": issued.secret}


@module.whm(
    "api_token_rotate",
    (),
    "Give a WHM token of the caller's a new secret (in `data.token`, shown this once), keeping its name, ACLs, "
    "allowlist and expiry; the old secret works for `grace_period` seconds (0 to 604800, default 86400). Ours.",
    writes=True,
    params=(
        NAME,
        Param(
            "grace_period", "Seconds the old secret keeps working: 0 to 604800 (7 days); default 86400.", type="integer"
        ),
    ),
)
def api_token_rotate(call: Call) -> dict[str, Any]:
    with _failing("The system failed to rotate the API token: "):
        name = call.args.get("token_name")
        if not name:
            raise InvalidInput("token_name", "The parameter “token_name” is required.")
        grace_period = parse_grace_period(call.args.get("grace_period"))
        issued = call.services.tokens.rotate(call.principal, name, grace_period)
    return {**_record(issued.token), **lifecycle_fields(issued.token, call.now), "token": issued.secret}


@module.whm("api_token_list", (), "The caller's WHM API tokens, by name, with every ACL as 1 or 0.")
def api_token_list(call: Call) -> dict[str, Any]:
    privileges(call.principal)
    owner = _owner(call)
    with _failing("The system failed to read the API tokens: "):
        query = TokenQuery(service=call.principal.service)
        tokens, _ = call.services.tokens.page(call.principal.account.id, query)
    listed = {}
    for token in tokens:
        effective = owner.narrowed(token.acls)
        acls = {name: value for name, value in effective.listed().items() if owner.has(name)}
        listed[token.name] = {
            **_record(token, with_acls=False),
            "whitelist_ips": _record(token).get("whitelist_ips"),
            "acls": acls,
            "last_used": token.last_used_at,
            "last_used_ip": token.last_used_ip,
            **lifecycle_fields(token, call.now),
        }
    return {"tokens": listed}


def _owner(call: Call) -> Privileges:
    return Privileges(call.principal.account.acls or frozenset())


@module.whm(
    "api_token_update",
    (),
    "Rename a WHM token (`new_name`), or replace its ACLs, expiry or allowlist (`whitelist_ip=any` clears it).",
    writes=True,
    params=(NAME, Param("new_name", "A new name."), ACL, EXPIRES, WHITELIST),
)
def api_token_update(call: Call) -> dict[str, Any]:
    args, tokens, principal = call.args, call.services.tokens, call.principal
    with _failing("The system failed to update the API token: "):
        name = args.get("token_name")
        if not name:
            raise InvalidInput("token_name", "The parameter “token_name” is required.")
        new_name, acls = args.get("new_name"), _acls(call)
        addresses = args.optional_multiple("whitelist_ip")
        expires = args.get("expires_at")
        if not new_name and acls is None and not addresses and expires is None:
            raise InvalidInput("token_name", "Specify a new name, updated ACLs, or IPs.")
        tokens.get(principal.account.id, name, principal.service)
        if acls is not None or addresses or expires is not None:
            tokens.update(
                principal,
                name,
                expires_at=KEEP if expires is None else parse_expires_at(expires, call.now),
                whitelist=None if not addresses else ([] if addresses == ["any"] else addresses),
                acls=KEEP if acls is None else acls,
            )
        if new_name and new_name != name:
            tokens.rename(principal, name, new_name)
            name = new_name
        token = tokens.get(principal.account.id, name, principal.service)
    return _record(token)


@module.whm(
    "api_token_revoke",
    (),
    "Revoke the caller's WHM tokens named `token_name`, `token_name-1`, ...; unknown names are ignored.",
    writes=True,
    params=(Param("token_name", "A token's name (repeat as token_name-1, ...).", True, repeated=True),),
)
def api_token_revoke(call: Call) -> dict[str, Any]:
    with _failing("The system failed to revoke the API token: "):
        names = call.args.get_multiple("token_name")
        if not [name for name in names if name]:
            raise InvalidInput("token_name", "Provide at least one “token_name” argument.")
        for name in names:
            call.services.tokens.revoke(call.principal, name)
    return {}


@module.whm(
    "api_token_get_details",
    (),
    "The details of the caller's live WHM token whose secret is `token`; no data when there is none.",
    params=(Param("token", "The token's secret.", True),),
)
def api_token_get_details(call: Call) -> dict[str, Any] | None:
    token = call.services.tokens.details(call.principal, call.args.get("token") or "")
    return _record(token) if token is not None else None
