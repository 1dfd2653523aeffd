"""The web interface's routes: every page is wrapped by `page.route`, so access, CSRF and sudo are declared here."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from hostpanel.container import Container
from hostpanel.web.credentials import BrowserKeys
from hostpanel.web.page import Access, Handler, route
from hostpanel.web.pages import activity, login, password, tokens, twofactor

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
    ) -> BaseRoute:
        return route(container, keys, path, handler, methods=methods, access=access, sudo=sudo)

    anyone, halfway = Access.ANYONE, Access.SECOND_FACTOR
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
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
