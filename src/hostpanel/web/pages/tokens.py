"""Security → API Tokens: the table (sorted and paged in the database), create, rename, revoke, delete expired."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from hostpanel.domain.errors import HostpanelError, InvalidInput, NotFound
from hostpanel.domain.permissions import (
    SCOPE_DESCRIPTIONS,
    SCOPE_FEATURES,
    Access,
    Permissions,
    Scope,
    ScopeModule,
)
from hostpanel.domain.tokens.model import (
    DEFAULT_GRACE_PERIOD,
    ApiToken,
    TokenOrder,
    TokenQuery,
    parse_grace_period,
    parse_max_uses,
)
from hostpanel.domain.tokens.record import describe_lifecycle
from hostpanel.domain.tokens.restrictions import CHALLENGE_NAME, NO_RESTRICTIONS, DnsNames, DnsTypes, Restrictions
from hostpanel.domain.tokens.review import is_expiring_soon
from hostpanel.domain.tokens.usage import DAY, HISTORY_DAYS, TokenUsage
from hostpanel.web.page import PageContext

PAGE_SIZES = (25, 50, 100)
EXPIRY_PRESETS = {"7": 7, "30": 30, "90": 90}
SORTS = {
    "name": TokenOrder.NAME,
    "created": TokenOrder.CREATED,
    "expires": TokenOrder.EXPIRES,
    "last_used": TokenOrder.LAST_USED,
}


@dataclass(frozen=True)
class TokenRow:
    """One row of the tokens table: the token and its status badge."""

    token: ApiToken
    status: str  # active | expires-soon | expired: the badge's class and words
    now: float = 0.0

    @property
    def lifecycle(self) -> list[str]:
        """Badges beside the status: rotating (until when), used k of N, imported."""
        return describe_lifecycle(self.token, self.now)

    @property
    def permissions(self) -> str:
        limits = _restrictions_text(self.token)
        return _permissions_text(self.token) + (f"; limited to {limits}" if limits else "")


def _permissions_text(token: ApiToken) -> str:
    permissions = token.permissions
    return "Full access" if permissions.full_access else ", ".join(permissions.scope_names())


def _restrictions_text(token: ApiToken) -> str:
    restrictions = token.restrictions
    if restrictions.get(DnsNames) == DnsNames((CHALLENGE_NAME,)) and restrictions.get(DnsTypes) == DnsTypes(("TXT",)):
        return "certificate challenges in DNS (TXT records named _acme-challenge)"
    return ", ".join(restrictions.describe())


@dataclass(frozen=True)
class Listing:
    """What the table shows, with the query that made it (kept through sorting and paging links)."""

    rows: list[TokenRow]
    total: int
    page: int
    pages: int
    size: int
    sort: str
    direction: str
    search: str

    @property
    def first(self) -> int:
        return (self.page - 1) * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.page * self.size, self.total)

    def link(self, **changes: Any) -> str:
        values = {"q": self.search, "sort": self.sort, "dir": self.direction, "size": self.size, "page": self.page}
        values.update(changes)
        return "?" + "&".join(f"{key}={_quote(value)}" for key, value in values.items() if value not in ("", None))

    def sort_link(self, column: str) -> str:
        direction = "desc" if self.sort == column and self.direction == "asc" else "asc"
        return self.link(sort=column, dir=direction, page=1)

    def aria_sort(self, column: str) -> str:
        if self.sort != column:
            return "none"
        return "ascending" if self.direction == "asc" else "descending"


def _quote(value: object) -> str:
    return quote(str(value), safe="")


def _status(token: ApiToken, now: float, expiring_days: int) -> str:
    """The badge: as `Tokens::list` flags it, with the server's "expiring soon" window."""
    if token.is_expired(now):
        return "expired"
    return "expires-soon" if is_expiring_soon(token, now, expiring_days) else "active"


def _number(text: str | None, default: int, allowed: tuple[int, ...] | None = None) -> int:
    value = int(text) if text and text.isascii() and text.isdigit() and len(text) < 9 else default
    return value if allowed is None or value in allowed else default


def listing(ctx: PageContext, params: dict[str, str]) -> Listing:
    _, account = ctx.signed_in()
    sort = params.get("sort") or "name"
    sort = sort if sort in SORTS else "name"
    direction = "desc" if params.get("dir") == "desc" else "asc"
    size = _number(params.get("size"), PAGE_SIZES[0], PAGE_SIZES)
    search = (params.get("q") or "").strip()[:50]
    wanted = max(1, _number(params.get("page"), 1))
    service = ctx.services.tokens

    def fetch(page: int) -> tuple[list[ApiToken], int]:
        query = TokenQuery(
            offset=(page - 1) * size,
            limit=size,
            order=SORTS[sort],
            descending=direction == "desc",
            name_contains=search or None,
        )
        return service.page(account.id, query)

    tokens, total = fetch(wanted)
    pages = max(1, math.ceil(total / size))
    if wanted > pages:  # past the end (e.g. after deletions): show the last page
        wanted = pages
        tokens, total = fetch(wanted)
    now = ctx.services.clock.now()
    days = ctx.services.review_policy.expiring_days
    rows = [TokenRow(token, _status(token, now, days), now) for token in tokens]
    return Listing(rows, total, wanted, pages, size, sort, direction, search)


def tokens_page(ctx: PageContext) -> Response:
    return ctx.render("tokens.html", listing=listing(ctx, dict(ctx.query)), rename_errors={})


def new_form(ctx: PageContext) -> Response:
    return ctx.render("token_new.html", **_form_values(ctx, {}))


def create(ctx: PageContext) -> Response:
    form = {key: str(value) for key, value in ctx.form.items()}
    now = ctx.services.clock.now()
    challenges = form.get("dns_challenges") == "1"
    try:
        expires_at = _expiry(form, now)
        permissions = _permissions(form, challenges)
        restrictions = (
            Restrictions.parse(dns_names=[CHALLENGE_NAME], dns_types=["TXT"]) if challenges else NO_RESTRICTIONS
        )
        name = form.get("name", "").strip()
        max_uses = parse_max_uses(form.get("max_uses", "").strip() or None)
        issued = ctx.services.tokens.create(
            ctx.principal, name, expires_at, permissions, restrictions, max_uses=max_uses
        )
    except HostpanelError as error:
        fields = {"expires_at": "expiry", "scope": "access"}
        return ctx.form_error(error, "token_new.html", fields=fields, conflict_field="name", **_form_values(ctx, form))
    _, account = ctx.signed_in()
    return ctx.render(
        "token_created.html",
        token=issued.token,
        secret=issued.secret,
        username=account.username,
        permissions=_permissions_text(issued.token),
        restrictions=_restrictions_text(issued.token),
        origin=f"{ctx.request.url.scheme}://{ctx.request.url.netloc}",
    )


def _form_values(ctx: PageContext, form: dict[str, str]) -> dict[str, Any]:
    _, account = ctx.signed_in()
    modules = []
    for module in ScopeModule:
        feature = SCOPE_FEATURES[module]
        modules.append({
            "name": module.value,
            "description": SCOPE_DESCRIPTIONS[module],
            "off": feature is not None and feature.value in account.disabled_features,
            "value": form.get(f"scope-{module.value}", "none"),
        })  # fmt: skip
    return {
        "form": {
            "name": form.get("name", ""),
            "expiry": form.get("expiry", "30"),
            "expiry_date": form.get("expiry_date", ""),
            "access": form.get("access", "scopes"),
            "dns_challenges": form.get("dns_challenges") == "1",
            "max_uses": form.get("max_uses", ""),
        },
        "modules": modules,
        "today": datetime.datetime.fromtimestamp(ctx.services.clock.now(), datetime.UTC).date().isoformat(),
    }


def _expiry(form: dict[str, str], now: float) -> int | None:
    choice = form.get("expiry", "")
    if choice in EXPIRY_PRESETS:
        return int(now) + EXPIRY_PRESETS[choice] * 86400
    if choice == "never":
        return None
    if choice == "date":
        try:
            day = datetime.date.fromisoformat(form.get("expiry_date", ""))
        except ValueError:
            raise InvalidInput("expiry", "Choose the day the token stops working.") from None
        end = datetime.datetime.combine(day, datetime.time(23, 59, 59), datetime.UTC).timestamp()
        if end <= now:
            raise InvalidInput("expiry", "The expiry date must be in the future.")
        return int(end)
    raise InvalidInput("expiry", "Choose when the token expires.")


def _permissions(form: dict[str, str], challenges: bool = False) -> Permissions:
    """Full access, or the chosen scopes; "only certificate challenges" brings DNS read and write when DNS was left
    at none (the restriction, not the scope, keeps it to challenges)."""
    if form.get("access") == "full":
        return Permissions.full()
    scopes = []
    for module in ScopeModule:
        level = form.get(f"scope-{module.value}", "none")
        if level in (Access.READ.value, Access.WRITE.value):
            scopes.append(Scope(module, Access(level)))
    if challenges and not any(scope.module == ScopeModule.DNS for scope in scopes):
        scopes.append(Scope(ScopeModule.DNS, Access.WRITE))
    if not scopes:
        raise InvalidInput("access", "Choose full access, or at least one permission for the token.")
    return Permissions.of(scopes)


def _return_params(ctx: PageContext) -> dict[str, str]:
    return {key: str(ctx.form.get(key, "")) for key in ("q", "sort", "dir", "size", "page")}


def rename(ctx: PageContext) -> Response:
    name, new_name = str(ctx.form.get("name", "")), str(ctx.form.get("new_name", "")).strip()
    params = _return_params(ctx)
    try:
        ctx.services.tokens.rename(ctx.principal, name, new_name)
    except HostpanelError as error:
        ctx.failed = error
        message = error.message
        return ctx.render(
            "tokens.html", 400, listing=listing(ctx, params), rename_errors={name: message}, renaming=name
        )
    return ctx.redirect("/security/tokens", "token-renamed", **{k: v for k, v in params.items() if v})


def revoke_form(ctx: PageContext) -> Response:
    _, account = ctx.signed_in()
    name = ctx.query.get("name", "")
    try:
        token = ctx.services.tokens.get(account.id, name)
    except NotFound:
        return ctx.render("token_revoke.html", 404, name=name, token=None)
    return ctx.render("token_revoke.html", name=name, token=token)


def revoke(ctx: PageContext) -> Response:
    name = str(ctx.form.get("name", ""))
    if not ctx.services.tokens.revoke(ctx.principal, name):
        return ctx.render("token_revoke.html", 404, name=name, token=None)
    return ctx.redirect("/security/tokens", "token-revoked")


def expired_form(ctx: PageContext) -> Response:
    return ctx.render("tokens_expired.html")


def delete_expired(ctx: PageContext) -> Response:
    ctx.services.tokens.revoke_expired(ctx.principal)
    return ctx.redirect("/security/tokens", "expired-deleted")


# The grace periods the rotate form offers (seconds), as the API allows any from 0 to 7 days.
GRACE_CHOICES = (
    ("0", "None: refuse the old secret at once"),
    ("3600", "1 hour"),
    (str(DEFAULT_GRACE_PERIOD), "24 hours"),
    ("259200", "3 days"),
    ("604800", "7 days"),
)


@dataclass(frozen=True)
class Bar:
    """One day of the usage chart, in the SVG's units."""

    x: int
    y: int
    height: int
    calls: int
    day: str


CHART_HEIGHT = 80
BAR_WIDTH = 6


def chart(usage: TokenUsage, now: float) -> list[Bar]:
    """Calls per day over the kept days as bars scaled to the busiest day (drawn by the page as SVG, no script)."""
    today = int(now) // DAY
    counts = usage.by_day(today)
    busiest = max(counts) or 1
    bars = []
    for index, calls in enumerate(counts):
        height = round(calls / busiest * CHART_HEIGHT) if calls else 0
        day = datetime.datetime.fromtimestamp((today - HISTORY_DAYS + 1 + index) * DAY, datetime.UTC)
        bars.append(Bar(index * BAR_WIDTH, CHART_HEIGHT - height, height, calls, day.date().isoformat()))
    return bars


def token_page(ctx: PageContext) -> Response:
    """One token: its lifecycle, its usage over the kept days and its last addresses."""
    _, account = ctx.signed_in()
    name = ctx.query.get("name", "")
    try:
        token = ctx.services.tokens.get(account.id, name)
    except NotFound:
        return ctx.render("token_revoke.html", 404, name=name, token=None)
    now = ctx.services.clock.now()
    usage = ctx.services.tokens.usage([token])[token.id]
    return ctx.render(
        "token.html",
        token=token,
        row=TokenRow(token, _status(token, now, ctx.services.review_policy.expiring_days), now),
        previous=token.previous_valid(now),
        usage=usage,
        bars=chart(usage, now),
        chart_width=HISTORY_DAYS * BAR_WIDTH,
        chart_height=CHART_HEIGHT,
    )


def rotate_form(ctx: PageContext) -> Response:
    """The rotate dialog: how long the old secret may keep working."""
    return _rotate_form(ctx, ctx.query.get("name", ""), {}, str(DEFAULT_GRACE_PERIOD))


def _rotate_form(ctx: PageContext, name: str, errors: dict[str, str], grace: str, status: int = 200) -> Response:
    _, account = ctx.signed_in()
    try:
        token = ctx.services.tokens.get(account.id, name)
    except NotFound:
        return ctx.render("token_revoke.html", 404, name=name, token=None)
    now = ctx.services.clock.now()
    return ctx.render(
        "token_rotate.html",
        status,
        token=token,
        previous=token.previous_valid(now),
        grace_choices=GRACE_CHOICES,
        grace=grace,
        errors=errors,
    )


def rotate(ctx: PageContext) -> Response:
    """A new secret, shown once; the old one keeps working for the chosen grace period."""
    name = str(ctx.form.get("name", ""))
    chosen = str(ctx.form.get("grace_period", ""))
    try:
        grace = parse_grace_period(chosen or None)
        issued = ctx.services.tokens.rotate(ctx.principal, name, grace)
    except NotFound:
        return ctx.render("token_revoke.html", 404, name=name, token=None)
    except HostpanelError as error:
        ctx.failed = error
        return _rotate_form(ctx, name, {"grace_period": error.message}, chosen, 400)
    _, account = ctx.signed_in()
    now = ctx.services.clock.now()
    return ctx.render(
        "token_created.html",
        token=issued.token,
        secret=issued.secret,
        username=account.username,
        permissions=_permissions_text(issued.token),
        restrictions=_restrictions_text(issued.token),
        origin=f"{ctx.request.url.scheme}://{ctx.request.url.netloc}",
        rotated=True,
        previous=issued.token.previous_valid(now),
    )
