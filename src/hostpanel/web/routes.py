"""The web interface's routes: every page is wrapped by `route.route`, so its access level, module (whose account
feature must be on) and sudo are declared here, once, and checked before its handler runs."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from hostpanel.domain.permissions import Feature, ScopeModule
from hostpanel.web.page import Access, Site
from hostpanel.web.pages import activity, backups, files, login, mail, password, tokens, twofactor, zones
from hostpanel.web.route import route

STATIC = Path(__file__).parent / "static"


def web_routes(site: Site) -> list[BaseRoute]:
    page = partial(route, site)
    post = ("POST",)
    anyone, halfway = Access.ANYONE, Access.SECOND_FACTOR
    fileman, backup, email, dns = ScopeModule.FILEMAN, ScopeModule.BACKUP, ScopeModule.EMAIL, ScopeModule.DNS
    api_tokens, two_factor = ScopeModule.TOKENS, ScopeModule.TWOFACTORAUTH
    forwarders = Feature.FORWARDERS
    return [
        page("/", login.home, access=anyone),
        page("/login", login.login_form, access=anyone),
        page("/login", login.login, methods=post, access=anyone),
        page("/login/code", login.code_form, access=halfway),
        page("/login/code", login.code, methods=post, access=halfway),
        page("/logout", login.logout, methods=post, access=anyone),
        page("/security", lambda ctx: ctx.redirect("/security/tokens")),
        page("/security/confirm", login.confirm_form),
        page("/security/confirm", login.confirm, methods=post),
        page("/security/tokens", tokens.tokens_page, module=api_tokens),
        page("/security/tokens/new", tokens.new_form, sudo=True, module=api_tokens),
        page("/security/tokens/new", tokens.create, methods=post, sudo=True, module=api_tokens),
        page("/security/tokens/rename", tokens.rename, methods=post, module=api_tokens),
        page("/security/tokens/revoke", tokens.revoke_form, module=api_tokens),
        page("/security/tokens/revoke", tokens.revoke, methods=post, module=api_tokens),
        page("/security/tokens/expired", tokens.expired_form, module=api_tokens),
        page("/security/tokens/expired", tokens.delete_expired, methods=post, module=api_tokens),
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
        # The zone editor: its changes are transactions of their own, each confirmed with the nameserver.
        page("/domains/zone-editor", zones.zones_page, module=dns, write=False),
        page("/domains/zone-editor/add", zones.add, methods=post, module=dns, write=False),
        page("/domains/zone-editor/edit", zones.edit_form, module=dns, write=False),
        page("/domains/zone-editor/edit", zones.edit, methods=post, module=dns, write=False),
        page("/domains/zone-editor/delete", zones.delete, methods=post, module=dns, write=False),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
