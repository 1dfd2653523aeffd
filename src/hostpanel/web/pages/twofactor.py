"""Security → Two-Factor Authentication: status, set-up with a QR code, recovery codes, removal."""

from __future__ import annotations

import segno
from starlette.responses import Response

from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.twofactor import totp
from hostpanel.web.page import PageContext


def status_page(ctx: PageContext) -> Response:
    _, account = ctx.signed_in()
    state = ctx.services.twofactor.status(account)
    return ctx.render("twofactor.html", state=state)


def _setup_values(secret: str, uri: str) -> dict[str, str]:
    qr = segno.make(uri, error="m")
    return {
        "secret": secret,
        "grouped_secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr": qr.svg_data_uri(scale=5, border=2, dark="#111111", light="#ffffff"),
    }


def setup_form(ctx: PageContext) -> Response:
    _, account = ctx.signed_in()
    service = ctx.services.twofactor
    enrolment = service.generate(account)
    values = _setup_values(enrolment.secret, enrolment.uri)
    return ctx.render("twofactor_setup.html", replacing=service.is_enabled(account), **values)


def setup(ctx: PageContext) -> Response:
    _, account = ctx.signed_in()
    service = ctx.services.twofactor
    secret = totp.normalise_secret(str(ctx.form.get("secret", ""))) or ""
    try:
        codes = service.enable(ctx.principal, secret, str(ctx.form.get("code", "")))
    except HostpanelError as error:
        if not secret:  # a tampered form: start again with a fresh secret
            return ctx.redirect("/security/two-factor/setup")
        uri = totp.provisioning_uri(secret, account.username, service.issuer)
        return ctx.form_error(
            error,
            "twofactor_setup.html",
            fields={"tfa_token": "code"},
            replacing=service.is_enabled(account),
            **_setup_values(secret, uri),
        )
    return ctx.render("twofactor_codes.html", codes=codes, first_time=True)


def recovery_form(ctx: PageContext) -> Response:
    return ctx.render("twofactor_renew.html")


def renew_recovery_codes(ctx: PageContext) -> Response:
    try:
        codes = ctx.services.twofactor.renew_recovery_codes(ctx.principal)
    except HostpanelError as error:
        return ctx.form_error(error, "twofactor_renew.html")
    return ctx.render("twofactor_codes.html", codes=codes, first_time=False)


def disable_form(ctx: PageContext) -> Response:
    return ctx.render("twofactor_disable.html")


def disable(ctx: PageContext) -> Response:
    """Needs the password and a current code (or a recovery code) right here, whatever the sudo window says."""
    session, account = ctx.signed_in()
    password, code = str(ctx.form.get("password", "")), str(ctx.form.get("code", ""))
    if refusal := ctx.credential_blocked(account.username):
        return ctx.locked_out(refusal, "twofactor_disable.html")
    try:
        ctx.services.login.confirm(session, account, password, code, ctx.ip)
    except HostpanelError as refused:
        ctx.credential_failed(account.username)
        return ctx.form_error(refused, "twofactor_disable.html")
    ctx.services.twofactor.disable(ctx.principal)
    return ctx.redirect("/security/two-factor", "twofactor-disabled")
