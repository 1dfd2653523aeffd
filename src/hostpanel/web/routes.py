"""The web interface's routes: every page is wrapped by `page.route`, so access, CSRF and sudo are declared here."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from hostpanel.container import Container
from hostpanel.domain.permissions import Feature, ScopeModule
from hostpanel.web.credentials import BrowserKeys
from hostpanel.web.page import Access, Handler, route
from hostpanel.web.pages import activity, backups, files, login, mail, password, tokens, twofactor

STATIC = Path(__file__).parent / "static"


def web_routes(container: Container) -> list[BaseRoute]:
    keys = BrowserKeys(container.keys)

    def page(
        path: str,
        handler: Handler,
        *,
        methods: tuple[str, ...] = ("GET",),
        access: Access = Access.SIGNED_IN,
        sudo: bool = False,
        module: ScopeModule | None = None,
        feature: Feature | None = None,
        uploads: bool = False,
        write: bool = True,
    ) -> BaseRoute:
        return route(
            container,
            keys,
            path,
            handler,
            methods=methods,
            access=access,
            sudo=sudo,
            module=module,
            feature=feature,
            uploads=uploads,
            write=write,
        )

    post = ("POST",)
    anyone, halfway = Access.ANYONE, Access.SECOND_FACTOR
    fileman, backup, email = ScopeModule.FILEMAN, ScopeModule.BACKUP, ScopeModule.EMAIL
    forwarders = Feature.FORWARDERS
    return [
        page("/", login.home, access=anyone),
        page("/login", login.login_form, access=anyone),
        page("/login", login.login, methods=("POST",), access=anyone),
        page("/login/code", login.code_form, access=halfway),
        page("/login/code", login.code, methods=("POST",), access=halfway),
        page("/logout", login.logout, methods=("POST",), access=anyone),
        page("/security", lambda ctx: ctx.redirect("/security/tokens")),
        page("/security/confirm", login.confirm_form),
        page("/security/confirm", login.confirm, methods=("POST",)),
        page("/security/tokens", tokens.tokens_page),
        page("/security/tokens/new", tokens.new_form, sudo=True),
        page("/security/tokens/new", tokens.create, methods=("POST",), sudo=True),
        page("/security/tokens/rename", tokens.rename, methods=("POST",)),
        page("/security/tokens/revoke", tokens.revoke_form),
        page("/security/tokens/revoke", tokens.revoke, methods=("POST",)),
        page("/security/tokens/expired", tokens.expired_form),
        page("/security/tokens/expired", tokens.delete_expired, methods=("POST",)),
        page("/security/two-factor", twofactor.status_page),
        page("/security/two-factor/setup", twofactor.setup_form, sudo=True),
        page("/security/two-factor/setup", twofactor.setup, methods=("POST",), sudo=True),
        page("/security/two-factor/recovery-codes", twofactor.recovery_form, sudo=True),
        page("/security/two-factor/recovery-codes", twofactor.renew_recovery_codes, methods=("POST",), sudo=True),
        page("/security/two-factor/disable", twofactor.disable_form),
        page("/security/two-factor/disable", twofactor.disable, methods=("POST",)),
        page("/security/password", password.password_form, sudo=True),
        page("/security/password", password.change, methods=("POST",), sudo=True),
        page("/security/sessions/end-others", password.end_others, methods=("POST",)),
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
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
