"""The web interface's routes: every page is wrapped by `route.route`, so its access level, module (whose account
feature must be on) and sudo are declared here, once, and checked before its handler runs."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from hostpanel.domain.permissions import Feature, ScopeModule
from hostpanel.web.page import Access, Site
from hostpanel.web.pages import activity, backups, domains, files, login, mail, password, ssl, tokens, twofactor, zones
from hostpanel.web.pages import whm as whm_pages
from hostpanel.web.route import route

STATIC = Path(__file__).parent / "static"


def _signing_in(page: Callable[..., Route]) -> list[BaseRoute]:
    """Signing in and out (password, code, single sign-on link) and sudo: the same on both interfaces."""
    post = ("POST",)
    anyone, halfway = Access.ANYONE, Access.SECOND_FACTOR
    return [
        page("/", login.home, access=anyone),
        page("/cpsess{session:digits}/login/", login.single_sign_on, access=anyone),
        page("/login", login.login_form, access=anyone),
        page("/login", login.login, methods=post, access=anyone),
        page("/login/code", login.code_form, access=halfway),
        page("/login/code", login.code, methods=post, access=halfway),
        page("/logout", login.logout, methods=post, access=anyone),
        page("/security/confirm", login.confirm_form),
        page("/security/confirm", login.confirm, methods=post),
    ]


def _own_security(page: Callable[..., Route]) -> list[BaseRoute]:
    """The signed-in user's own two-factor authentication and password: the same on both interfaces."""
    post = ("POST",)
    two_factor = ScopeModule.TWOFACTORAUTH
    return [
        page("/security/two-factor", twofactor.status_page, module=two_factor),
        page("/security/two-factor/setup", twofactor.setup_form, sudo=True, module=two_factor),
        page("/security/two-factor/setup", twofactor.setup, methods=post, sudo=True, module=two_factor),
        page("/security/two-factor/recovery-codes", twofactor.recovery_form, sudo=True, module=two_factor),
        page(
            "/security/two-factor/recovery-codes",
            twofactor.renew_recovery_codes,
            methods=post,
            sudo=True,
            module=two_factor,
        ),
        page("/security/two-factor/disable", twofactor.disable_form, module=two_factor),
        page("/security/two-factor/disable", twofactor.disable, methods=post, module=two_factor),
        page("/security/password", password.password_form, sudo=True),
        page("/security/password", password.change, methods=post, sudo=True),
        page("/security/sessions/end-others", password.end_others, methods=post),
    ]


def web_routes(site: Site) -> list[BaseRoute]:
    page = partial(route, site)
    post = ("POST",)
    fileman, backup, email, dns = ScopeModule.FILEMAN, ScopeModule.BACKUP, ScopeModule.EMAIL, ScopeModule.DNS
    api_tokens = ScopeModule.TOKENS
    forwarders = Feature.FORWARDERS
    sites, sub, addon = ScopeModule.DOMAINS, Feature.SUBDOMAINS, Feature.ADDONDOMAINS
    return [
        *_signing_in(page),
        page("/security", lambda ctx: ctx.redirect("/security/tokens")),
        page("/security/tokens", tokens.tokens_page, module=api_tokens),
        page("/security/tokens/new", tokens.new_form, sudo=True, module=api_tokens),
        page("/security/tokens/new", tokens.create, methods=post, sudo=True, module=api_tokens),
        page("/security/tokens/rename", tokens.rename, methods=post, module=api_tokens),
        page("/security/tokens/token", tokens.token_page, module=api_tokens),
        page("/security/tokens/rotate", tokens.rotate_form, sudo=True, module=api_tokens),
        page("/security/tokens/rotate", tokens.rotate, methods=post, sudo=True, module=api_tokens),
        page("/security/tokens/revoke", tokens.revoke_form, module=api_tokens),
        page("/security/tokens/revoke", tokens.revoke, methods=post, module=api_tokens),
        page("/security/tokens/expired", tokens.expired_form, module=api_tokens),
        page("/security/tokens/expired", tokens.delete_expired, methods=post, module=api_tokens),
        *_own_security(page),
        page("/security/activity", activity.activity_page),
        page("/security/activity.csv", activity.export_csv),
        page("/security/activity.json", activity.export_json),
        # Files, email and backups: each needs its account feature. Sudo guards what destroys data for good, what
        # gives lasting access to mail (a mailbox, its password, a forwarder) and restores.
        page("/files", files.browse, module=fileman),
        page("/files/download", files.download, module=fileman),
        page("/files/upload", files.upload, methods=post, module=fileman, uploads=True),
        page("/files/mkdir", files.make_folder, methods=post, module=fileman),
        page("/files/move", files.move, methods=post, module=fileman),
        page("/files/trash", files.trash, methods=post, module=fileman),
        page("/files/delete", files.delete_form, module=fileman, sudo=True),
        page("/files/delete", files.delete, methods=post, module=fileman, sudo=True),
        page("/files/empty-trash", files.empty_trash_form, module=fileman, sudo=True),
        page("/files/empty-trash", files.empty_trash, methods=post, module=fileman, sudo=True),
        page("/files/edit", files.edit_form, module=fileman),
        page("/files/edit", files.save, methods=post, module=fileman),
        page("/email/accounts", mail.accounts_page, module=email),
        page("/email/accounts/new", mail.new_form, module=email, sudo=True),
        page("/email/accounts/new", mail.create, methods=post, module=email, sudo=True),
        page("/email/accounts/manage", mail.manage_form, module=email, sudo=True),
        page("/email/accounts/password", mail.change_password, methods=post, module=email, sudo=True),
        page("/email/accounts/quota", mail.change_quota, methods=post, module=email),
        page("/email/accounts/delete", mail.delete_form, module=email, sudo=True),
        page("/email/accounts/delete", mail.delete, methods=post, module=email, sudo=True),
        page("/email/forwarders", mail.forwarders_page, module=email, feature=forwarders),
        page("/email/forwarders/new", mail.new_forwarder_form, module=email, feature=forwarders, sudo=True),
        page("/email/forwarders/new", mail.create_forwarder, methods=post, module=email, feature=forwarders, sudo=True),
        page("/email/forwarders/delete", mail.delete_forwarder, methods=post, module=email, feature=forwarders),
        page("/backups", backups.backups_page, module=backup),
        page("/backups/new", backups.create, methods=post, module=backup),
        page("/backups/status.json", backups.status, module=backup, write=False),
        page("/backups/download", backups.download, module=backup),
        page("/backups/restore", backups.restore_form, module=backup, sudo=True),
        page("/backups/restore", backups.restore, methods=post, module=backup, sudo=True, write=False),
        # Sites: each change is a transaction of its own, committed once nginx serves it.
        page("/domains", domains.domains_page, module=sites, write=False),
        page("/domains/subdomains/add", domains.add_subdomain, methods=post, module=sites, feature=sub, write=False),
        page(
            "/domains/subdomains/remove", domains.remove_subdomain, methods=post, module=sites, feature=sub, write=False
        ),
        page("/domains/addon/add", domains.add_addon, methods=post, module=sites, feature=addon, write=False),
        page("/domains/addon/remove", domains.remove_addon, methods=post, module=sites, feature=addon, write=False),
        # The zone editor: its changes are transactions of their own, each confirmed with the nameserver.
        page("/domains/zone-editor", zones.zones_page, module=dns, write=False),
        page("/domains/zone-editor/add", zones.add, methods=post, module=dns, write=False),
        page("/domains/zone-editor/edit", zones.edit_form, module=dns, write=False),
        page("/domains/zone-editor/edit", zones.edit, methods=post, module=dns, write=False),
        page("/domains/zone-editor/delete", zones.delete, methods=post, module=dns, write=False),
        # SSL/TLS: a certificate is served (nginx reloaded) before the page answers.
        page("/domains/ssl", ssl.ssl_page, module=ScopeModule.SSL),
        page("/domains/ssl/install", ssl.install, methods=post, module=ScopeModule.SSL),
        page("/domains/ssl/delete", ssl.delete, methods=post, module=ScopeModule.SSL),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]


def whm_routes(site: Site) -> list[BaseRoute]:
    """WHM's pages: signing in, the administration pages (each declaring the ACL it needs), and the signed-in user's
    own two-factor and password pages."""
    page = partial(route, site)
    return [
        *_signing_in(page),
        *_own_security(page),
        *whm_pages.routes(page),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
