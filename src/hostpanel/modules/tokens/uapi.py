"""UAPI `Tokens`, with cPanel's parameters, output fields and messages (and our scoped `create`)."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.permissions import Access, Permissions, Scope, ScopeModule
from hostpanel.domain.tokens.model import (
    DEFAULT_GRACE_PERIOD,
    MAX_GRACE_PERIOD,
    ApiToken,
    TokenOrder,
    TokenQuery,
    parse_expires_at,
    parse_grace_period,
    parse_max_uses,
)
from hostpanel.domain.tokens.record import token_record, usage_fields
from hostpanel.domain.tokens.restrictions import Restrictions
from hostpanel.domain.tokens.service import MAX_RATE_LIMIT
from hostpanel.functions.call import Call
from hostpanel.functions.listing import ListOptions, Presorted
from hostpanel.functions.registry import Module, Param

module = Module("Tokens", ScopeModule.TOKENS, "Create, review, rename and revoke the account's API tokens.")

NAME = Param("name", "The token's name: 1-50 characters from a-z A-Z 0-9 _ -, unique in the account.", True)
EXPIRES = Param(
    "expires_at",
    "When the token stops working, in Unix seconds (must be in the future); 0 or absent: never.",
    type="integer",
)
MAX_USES_PARAM = Param(
    "max_uses",
    "How many requests the token may make in all (1: a one-shot token); absent: no limit. Ours.",
    type="integer",
)
# Columns the database can sort by, and the cPanel sort methods that agree with its order.
_NATIVE_SORTS = {
    "name": (TokenOrder.NAME, ("lexicographic",)),
    "create_time": (TokenOrder.CREATED, ("lexicographic", "numeric")),
}


@module.function(
    "create_full_access",
    Access.WRITE,
    "Create a token with the account's full access.",
    params=(NAME, EXPIRES, MAX_USES_PARAM),
)
def create_full_access(call: Call) -> dict[str, Any]:
    name = call.args.require("name")
    expires_at = parse_expires_at(call.args.get("expires_at"), call.now)
    max_uses = parse_max_uses(call.args.get("max_uses"))
    issued = call.services.tokens.create(call.principal, name, expires_at, Permissions.full(), max_uses=max_uses)
    # cPanel returns only these two fields from this call.
    return {"create_time": issued.token.created_at, "token": issued.secret}


@module.function(
    "create",
    Access.WRITE,
    "Create a token limited to scopes (or with full access); returns the whole record.",
    params=(
        NAME,
        EXPIRES,
        Param("full_access", "1 for every scope, now and in future modules.", type="boolean"),
        Param(
            "scope",
            "A scope such as `fileman:read` or `tokens:write`; repeat as scope, scope-1, ...",
            repeated=True,
            example="tokens:read",
        ),
        Param(
            "rate_limit",
            "Requests per rate window this token may make (absent: the server's default; 0: unlimited).",
            type="integer",
        ),
        Param(
            "fileman_path",
            "Restrict Fileman (and restores) to this folder of the home, e.g. public_html/app; repeatable.",
            repeated=True,
        ),
        Param("email_domain", "Restrict Email functions to this domain of the account; repeatable.", repeated=True),
        Param(
            "whitelist_ip",
            "Accept the token only from this IPv4/IPv6 address or CIDR range (at most 100); repeatable.",
            repeated=True,
        ),
        Param("read_only", "1 to refuse every function that needs a `:write` scope.", type="boolean"),
        Param(
            "dns_name",
            "Restrict DNS changes to records of this name, relative to the zone, at the apex and under any subdomain "
            "(`_acme-challenge` allows _acme-challenge.<zone> and _acme-challenge.<sub>.<zone>); repeatable.",
            repeated=True,
            example="_acme-challenge",
        ),
        Param("dns_type", "Restrict DNS changes to records of this type (e.g. TXT); repeatable.", repeated=True),
        MAX_USES_PARAM,
    ),
)
def create(call: Call) -> dict[str, Any]:
    args = call.args
    name = args.require("name")
    expires_at = parse_expires_at(args.get("expires_at"), call.now)
    scopes = [Scope.parse(text) for text in args.get_multiple("scope") if text]
    if args.flag("full_access"):
        if scopes:
            call.warnings.append("The “scope” arguments were ignored because “full_access” is 1.")
        permissions = Permissions.full()
    else:
        permissions = Permissions.of(scopes)
    restrictions = Restrictions.parse(
        fileman_paths=args.optional_multiple("fileman_path"),
        email_domains=args.optional_multiple("email_domain"),
        whitelist_ips=args.optional_multiple("whitelist_ip"),
        read_only=args.flag("read_only"),
        dns_names=args.optional_multiple("dns_name"),
        dns_types=args.optional_multiple("dns_type"),
    )
    rate_limit = call.args.integer("rate_limit", maximum=MAX_RATE_LIMIT)
    max_uses = parse_max_uses(args.get("max_uses"))
    issued = call.services.tokens.create(
        call.principal, name, expires_at, permissions, restrictions, rate_limit=rate_limit, max_uses=max_uses
    )
    return {**token_record(issued.token, call.now, call.services.review_policy), "token": issued.secret}


MAX_PAGE = 1000


@module.function(
    "list",
    Access.READ,
    "List the account's tokens, expired ones included. For large accounts, page by name with `after` and `limit`: "
    "each page costs the same however many tokens there are. Besides cPanel's fields, ours: `hp_rotated_at`, "
    "`hp_rotating` (0/1), `hp_old_secret_valid_until` and `hp_old_secret_last_used` (while a rotated-out secret is "
    "still accepted), `hp_max_uses` and `hp_uses` (null without a use limit), `hp_imported` and `hp_cpanel_format` "
    '(imported from cPanel; still its 32-character format), `hp_state` (phrases: "rotating, old secret valid until '
    '…", "used k of N", "imported"), and the usage history of the last 90 days: `hp_calls`, '
    "`hp_calls_by_module` ({module: calls}), `hp_calls_by_day` ([{day, module, calls}]) and `hp_recent_addresses` "
    "(the last 10: [{ip, first_seen, last_seen}]).",
    returns_list=True,
    quick_read=True,
    params=(
        Param(
            "after",
            "Only tokens whose names sort after this one (byte order), in name order: pass the last name of a page "
            "to get the next (`metadata.next_after` names it while more may follow).",
        ),
        Param("limit", f"How many tokens at most (1-{MAX_PAGE}, default 100); pages by name.", type="integer"),
    ),
)
def list_tokens(call: Call) -> list[dict[str, Any]] | Presorted:
    account_id = call.principal.account.id
    if call.args.get("after") is not None or call.args.get("limit") is not None:
        limit = call.args.integer("limit", 100, minimum=1, maximum=MAX_PAGE) or 100
        page = call.services.tokens.page_after(account_id, call.args.get("after"), limit)
        if len(page) == limit:
            call.metadata["next_after"] = page[-1].name
        return _records(call, page)
    query = _native_query(call.list_options)
    if query is None:
        tokens, _ = call.services.tokens.page(account_id, TokenQuery())
        return _records(call, tokens)
    tokens, total = call.services.tokens.page(account_id, query)
    return Presorted(_records(call, tokens), total)


def _records(call: Call, tokens: list[ApiToken]) -> list[dict[str, Any]]:
    """cPanel's fields and ours, with each token's usage history (two queries for the whole page)."""
    usage = call.services.tokens.usage(tokens)
    review = call.services.review_policy
    return [{**token_record(token, call.now, review), **usage_fields(usage[token.id])} for token in tokens]


def _native_query(options: ListOptions) -> TokenQuery | None:
    """Let the database sort and page when it can give exactly cPanel's result; None when it cannot."""
    if options.filters or len(options.sorts) > 1:
        return None
    order, descending = TokenOrder.NAME, False
    if options.sorts:
        sort = options.sorts[0]
        native = _NATIVE_SORTS.get(sort.column)
        if native is None or sort.method not in native[1]:
            return None
        order, descending = native[0], sort.reverse
    page = options.page
    return TokenQuery(
        offset=page.start - 1 if page else 0, limit=page.size if page else None, order=order, descending=descending
    )


@module.function(
    "rename",
    Access.WRITE,
    "Give a token a new name; nothing else about it changes.",
    params=(NAME, Param("new_name", "The new name, same rules as `name`.", True)),
)
def rename(call: Call) -> None:
    call.services.tokens.rename(call.principal, call.args.require("name"), call.args.require("new_name"))


@module.function(
    "revoke",
    Access.WRITE,
    "Delete a token; it is refused from the next request on. Returns 1 if it existed, 0 if not.",
    params=(NAME,),
)
def revoke(call: Call) -> int:
    return 1 if call.services.tokens.revoke(call.principal, call.args.require("name")) else 0


@module.function(
    "rotate",
    Access.WRITE,
    "Give a token a new secret, returned once as `token`; the token keeps its name, permissions, restrictions, "
    "expiry and use count. The old secret keeps working for `grace_period` seconds, so scripts can move over; "
    "rotating again during a grace period refuses the older secret at once. Ours.",
    params=(
        NAME,
        Param(
            "grace_period",
            f"Seconds the old secret keeps working: 0 (refused at once) to {MAX_GRACE_PERIOD} (7 days); "
            f"default {DEFAULT_GRACE_PERIOD} (24 hours).",
            type="integer",
        ),
    ),
)
def rotate(call: Call) -> dict[str, Any]:
    grace_period = parse_grace_period(call.args.get("grace_period"))
    issued = call.services.tokens.rotate(call.principal, call.args.require("name"), grace_period)
    return {**token_record(issued.token, call.now, call.services.review_policy), "token": issued.secret}
