"""WHM's administration pages: accounts (list, search, create, suspend, terminate, change package, log in as),
packages, resellers and their privileges, the signed-in user's own WHM API tokens (with an ACL picker), and token
oversight. Each calls the services WHM API 1 calls, so the page and the API refuse and record alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from hostpanel.domain.accounts.model import Service
from hostpanel.domain.errors import HostpanelError, InvalidInput
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.sessions.tickets import link
from hostpanel.domain.tokens.model import TokenQuery
from hostpanel.domain.tokens.restrictions import IpAllowlist, Restrictions
from hostpanel.domain.tokens.review import flags
from hostpanel.domain.whm.acls import ACL_DESCRIPTIONS, ALL
from hostpanel.domain.whm.oversight import TokenFilter
from hostpanel.domain.whm.packages import listed
from hostpanel.domain.whm.provisioning import NewAccount
from hostpanel.web.page import PageContext

EXPIRY_DAYS = {"30": 30, "90": 90, "365": 365}
TOKEN_FORM = {"name": "", "expiry": "90", "access": "acls", "whitelist": ""}
PACKAGE_FIELDS = ("quota", "bwlimit", "maxpop", "maxftp", "maxsql", "maxsub", "maxaddon", "maxpark")


def _form(ctx: PageContext) -> dict[str, str]:
    return {key: str(value) for key, value in ctx.form.items()}


# Accounts


def accounts_page(ctx: PageContext, error: HostpanelError | None = None) -> Response:
    search = (ctx.query.get("q") or "").strip()[:100]
    provisioning = ctx.services.provisioning
    try:
        accounts = provisioning.search(search or None, ctx.query.get("type") or "domain_and_user")
    except HostpanelError as failed:
        accounts, error = [], failed
    rows = provisioning.records(accounts)
    packages = [package.name for package in ctx.services.packages.listing(ctx.principal)]
    values: dict[str, Any] = {"rows": rows, "search": search, "packages": packages}
    if error is not None:
        return ctx.form_error(error, "whm_accounts.html", **values)
    return ctx.render("whm_accounts.html", **values)


def new_account_form(ctx: PageContext) -> Response:
    return ctx.render("whm_account_new.html", **_new_account_values(ctx, {}))


def _new_account_values(ctx: PageContext, form: dict[str, str]) -> dict[str, Any]:
    packages = [package.name for package in ctx.services.packages.listing(ctx.principal)]
    fields = ("username", "domain", "email", "plan")
    return {"form": {field: form.get(field, "") for field in fields}, "packages": packages}


def create_account(ctx: PageContext) -> Response:
    form = _form(ctx)
    wanted = NewAccount(
        username=form.get("username", "").strip(),
        domain=form.get("domain", "").strip(),
        password=form.get("password") or None,
        email=form.get("email", "").strip() or None,
        plan=form.get("plan") or "default",
        owner=None,
        settings=lambda _name: None,
    )
    try:
        if not wanted.username or not wanted.domain or not wanted.password:
            missing = next(f for f in ("username", "domain", "password") if not form.get(f))
            raise InvalidInput(missing, "This field is required.")
        created = ctx.services.provisioning.create(wanted)
    except HostpanelError as error:
        fields = {"email": "email", "plan": "plan"}
        return ctx.form_error(
            error, "whm_account_new.html", fields=fields, conflict_field="username", **_new_account_values(ctx, form)
        )
    return ctx.redirect("/accounts", "account-created", q=created.account.username)


def suspend(ctx: PageContext) -> Response:
    form = _form(ctx)
    user = form.get("user", "")
    try:
        if form.get("action") == "unsuspend":
            ctx.services.provisioning.unsuspend(user)
        else:
            ctx.services.provisioning.suspend(user, form.get("reason") or None, locked=False)
    except HostpanelError as error:
        return accounts_page(ctx, error)
    return ctx.redirect(
        "/accounts", "account-unsuspended" if form.get("action") == "unsuspend" else "account-suspended"
    )


def change_plan(ctx: PageContext) -> Response:
    form = _form(ctx)
    try:
        ctx.services.provisioning.change_package(form.get("user", ""), form.get("plan", ""))
    except HostpanelError as error:
        return accounts_page(ctx, error)
    return ctx.redirect("/accounts", "account-plan")


def terminate_form(ctx: PageContext) -> Response:
    user = ctx.query.get("user", "")
    try:
        account = ctx.services.provisioning.reach(user)
    except HostpanelError as error:
        return ctx.render("error.html", 404, code=404, reason=error.message)
    return ctx.render("whm_terminate.html", user=account.username)


def terminate(ctx: PageContext) -> Response:
    user = _form(ctx).get("user", "")
    try:
        ctx.services.provisioning.remove(user)
    except HostpanelError as error:
        return accounts_page(ctx, error)
    return ctx.redirect("/accounts", "account-removed")


def log_in_as(ctx: PageContext) -> Response:
    """Open the account's panel in this browser by a single sign-on link (as create_user_session makes them)."""
    user = _form(ctx).get("user", "")
    try:
        account = ctx.services.provisioning.reach(user)
        if not account.is_active:
            raise InvalidInput("user", f"You cannot log in as “{user}” because the account is suspended.")
        ticket = ctx.services.single_sign_on.issue(ctx.principal, account, Service.CPANEL)
    except HostpanelError as error:
        return accounts_page(ctx, error)
    server = ctx.services.server
    base = f"{ctx.request.url.scheme}://{ctx.request.url.hostname}:{server.port}"
    url, _ = link(base, account.username, ticket)
    # A page that moves on by itself, not a redirect: the form's redirect to another port would break the
    # Content-Security-Policy's `form-action 'self'`, which browsers apply to where a form's answer leads.
    return ctx.render("whm_log_in_as.html", url=url, user=account.username)


# Packages


def packages_page(ctx: PageContext, form: dict[str, str] | None = None) -> Response:
    packages = [listed(package) for package in ctx.services.packages.listing(ctx.principal, "viewable")]
    return ctx.render("whm_packages.html", packages=packages, form=form or {}, package_fields=PACKAGE_FIELDS)


def add_package(ctx: PageContext) -> Response:
    form = _form(ctx)
    try:
        ctx.services.packages.add(ctx.principal, form.get("name", "").strip(), lambda name: form.get(name) or None)
    except HostpanelError as error:
        ctx.failed = error
        packages = [listed(package) for package in ctx.services.packages.listing(ctx.principal, "viewable")]
        return ctx.form_error(
            error,
            "whm_packages.html",
            conflict_field="name",
            packages=packages,
            form=form,
            package_fields=PACKAGE_FIELDS,
        )
    return ctx.redirect("/packages", "package-added")


def delete_package(ctx: PageContext) -> Response:
    try:
        ctx.services.packages.delete(ctx.principal, _form(ctx).get("name", ""))
    except HostpanelError as error:
        packages = [listed(package) for package in ctx.services.packages.listing(ctx.principal, "viewable")]
        return ctx.form_error(error, "whm_packages.html", packages=packages, form={}, package_fields=PACKAGE_FIELDS)
    return ctx.redirect("/packages", "package-deleted")


# Resellers


def resellers_page(ctx: PageContext, error: HostpanelError | None = None) -> Response:
    resellers = ctx.services.resellers
    rows = [{"account": account, "owns": len(resellers.owned(account.username))} for account in resellers.all()]
    if error is not None:
        return ctx.form_error(error, "whm_resellers.html", rows=rows)
    return ctx.render("whm_resellers.html", rows=rows)


def setup_reseller(ctx: PageContext) -> Response:
    form = _form(ctx)
    try:
        if form.get("action") == "remove":
            ctx.services.resellers.unsetup(form.get("user", ""))
        else:
            ctx.services.resellers.setup(form.get("user", "").strip(), make_owner=False)
    except HostpanelError as error:
        return resellers_page(ctx, error)
    return ctx.redirect("/resellers", "reseller-removed" if form.get("action") == "remove" else "reseller-added")


def acls_form(ctx: PageContext) -> Response:
    try:
        account = ctx.services.resellers.get(ctx.query.get("user", ""))
    except HostpanelError as error:
        return ctx.render("error.html", 404, code=404, reason=error.message)
    return ctx.render("whm_reseller_acls.html", user=account.username, held=account.acls or frozenset(), acls=_acls())


def set_acls(ctx: PageContext) -> Response:
    user = str(ctx.form.get("user", ""))
    names = [str(value) for key, value in ctx.form.multi_items() if key == "acl"]
    try:
        ctx.services.resellers.set_acls(user, names)
    except HostpanelError as error:
        return ctx.form_error(error, "whm_reseller_acls.html", user=user, held=frozenset(names), acls=_acls())
    return ctx.redirect("/resellers", "reseller-acls")


def _acls() -> list[tuple[str, str]]:
    return sorted((name, text) for name, text in ACL_DESCRIPTIONS.items() if name != ALL)


# The signed-in user's WHM API tokens


def tokens_page(ctx: PageContext) -> Response:
    principal = ctx.principal
    tokens, _ = ctx.services.tokens.page(principal.account.id, TokenQuery(service=Service.WHM))
    now = ctx.services.clock.now()
    rows = [{"token": token, "expired": token.is_expired(now)} for token in tokens]
    return ctx.render("whm_tokens.html", rows=rows)


def new_token_form(ctx: PageContext) -> Response:
    return ctx.render("whm_token_new.html", **_token_values(ctx, {}, []))


def _token_values(ctx: PageContext, form: dict[str, str], chosen: list[str]) -> dict[str, Any]:
    held = ctx.principal.privileges
    choices = [(name, text) for name, text in _acls() if held is not None and held.has(name)]
    return {
        "form": {key: form.get(key, default) for key, default in TOKEN_FORM.items()},
        "acls": choices,
        "chosen": set(chosen),
    }


def create_token(ctx: PageContext) -> Response:
    form = _form(ctx)
    chosen = [str(value) for key, value in ctx.form.multi_items() if key == "acl"]
    now = int(ctx.services.clock.now())
    try:
        expiry = form.get("expiry", "90")
        expires_at = None if expiry == "never" else now + EXPIRY_DAYS.get(expiry, 90) * 86400
        acls = None if form.get("access") == "all" else frozenset(chosen)
        if acls is not None and not acls:
            raise InvalidInput("acl", "Choose the privileges the token needs, or all of yours.")
        addresses = [line.strip() for line in form.get("whitelist", "").split() if line.strip()]
        restrictions = Restrictions.of(IpAllowlist.parse(addresses) if addresses else None)
        issued = ctx.services.tokens.create(
            ctx.principal, form.get("name", "").strip(), expires_at, Permissions.full(), restrictions, acls=acls
        )
    except HostpanelError as error:
        fields = {"whitelist_ip": "whitelist", "expires_at": "expiry"}
        values = _token_values(ctx, form, chosen)
        return ctx.form_error(error, "whm_token_new.html", fields=fields, conflict_field="name", **values)
    origin = f"{ctx.request.url.scheme}://{ctx.request.url.netloc}"
    return ctx.render("whm_token_created.html", token=issued.token, secret=issued.secret, origin=origin)


def revoke_token(ctx: PageContext) -> Response:
    ctx.services.tokens.revoke(ctx.principal, _form(ctx).get("name", ""))
    return ctx.redirect("/api-tokens", "token-revoked")


# Token oversight


def oversight_page(ctx: PageContext, error: HostpanelError | None = None) -> Response:
    query = ctx.query
    days = query.get("unused_days", "")
    wanted = TokenFilter(
        user=query.get("user") or None,
        unused_days=int(days) if days.isascii() and days.isdigit() and 0 < len(days) < 6 else None,
        full_access=query.get("full_access") == "1",
        no_expiry=query.get("no_expiry") == "1",
        no_allowlist=query.get("no_allowlist") == "1",
    )
    now = ctx.services.clock.now()
    review = ctx.services.review_policy
    try:
        found = ctx.services.oversight.tokens(wanted)
    except HostpanelError as failed:
        found, error = [], failed
    rows = [
        {"token": token, "account": account, "flags": [flag.value for flag in flags(token, now, review)]}
        for token, account in found
    ]
    values: dict[str, Any] = {"rows": rows, "filters": wanted, "days": days}
    if error is not None:
        return ctx.form_error(error, "whm_oversight.html", **values)
    return ctx.render("whm_oversight.html", **values)


def oversight_revoke(ctx: PageContext) -> Response:
    form = _form(ctx)
    oversight = ctx.services.oversight
    try:
        if form.get("all") == "1":
            oversight.revoke_all(form.get("user", ""))
        else:
            oversight.revoke(form.get("user", ""), form.get("name", ""), Service(form.get("service", "cpanel")))
    except (HostpanelError, ValueError) as error:
        failed = error if isinstance(error, HostpanelError) else InvalidInput("service", "Unknown service.")
        return oversight_page(ctx, failed)
    return ctx.redirect("/token-oversight", "tokens-revoked")


def routes(page: Callable[..., Route]) -> list[Route]:
    post = ("POST",)
    return [
        page("/accounts", accounts_page, acls=("list-accts",)),
        page("/accounts/new", new_account_form, acls=("create-acct",)),
        page("/accounts/new", create_account, methods=post, acls=("create-acct",)),
        page("/accounts/suspend", suspend, methods=post, acls=("suspend-acct",)),
        page("/accounts/plan", change_plan, methods=post, acls=("upgrade-account",)),
        page("/accounts/terminate", terminate_form, acls=("kill-acct",), sudo=True),
        page("/accounts/terminate", terminate, methods=post, acls=("kill-acct",), sudo=True),
        page("/accounts/log-in-as", log_in_as, methods=post, acls=("create-user-session",)),
        page("/packages", packages_page, acls=("list-pkgs",)),
        page("/packages", add_package, methods=post, acls=("add-pkg",)),
        page("/packages/delete", delete_package, methods=post, acls=("add-pkg",)),
        page("/resellers", resellers_page, acls=(ALL,)),
        page("/resellers", setup_reseller, methods=post, acls=(ALL,), sudo=True),
        page("/resellers/acls", acls_form, acls=(ALL,), sudo=True),
        page("/resellers/acls", set_acls, methods=post, acls=(ALL,), sudo=True),
        page("/api-tokens", tokens_page, acls=()),
        page("/api-tokens/new", new_token_form, acls=(), sudo=True),
        page("/api-tokens/new", create_token, methods=post, acls=(), sudo=True),
        page("/api-tokens/revoke", revoke_token, methods=post, acls=()),
        page("/token-oversight", oversight_page, acls=("list-accts",)),
        page("/token-oversight/revoke", oversight_revoke, methods=post, acls=("kill-acct", "suspend-acct")),
    ]
