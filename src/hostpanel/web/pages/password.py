"""Security → Password: change it (other sessions end; optionally every API token is revoked), and sessions."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from hostpanel.domain.errors import AuthenticationFailed, HostpanelError, InvalidInput
from hostpanel.web.page import PageContext


def _values(ctx: PageContext) -> dict[str, Any]:
    _, account = ctx.signed_in()
    live = ctx.services.sessions.count_live(account.id)
    return {"other_sessions": max(0, live - 1)}


def password_form(ctx: PageContext) -> Response:
    return ctx.render("password.html", revoke_tokens=False, **_values(ctx))


def change(ctx: PageContext) -> Response:
    session, account = ctx.signed_in()
    current, new = str(ctx.form.get("current_password", "")), str(ctx.form.get("new_password", ""))
    revoke_tokens = ctx.form.get("revoke_tokens") == "1"
    if new != str(ctx.form.get("confirm_password", "")):
        mismatch = InvalidInput("confirm_password", "The two new passwords are not the same.")
        return ctx.form_error(mismatch, "password.html", revoke_tokens=revoke_tokens, **_values(ctx))
    if refusal := ctx.credential_blocked(account.username):
        return ctx.locked_out(refusal, "password.html", revoke_tokens=revoke_tokens, **_values(ctx))
    try:
        changed = ctx.services.login.change_password(
            session, account, current=current, new=new, revoke_tokens=revoke_tokens, ip=ctx.ip
        )
    except HostpanelError as error:
        if isinstance(error, AuthenticationFailed):
            ctx.credential_failed(account.username)
        return ctx.form_error(
            error,
            "password.html",
            refused="The current password is incorrect.",
            revoke_tokens=revoke_tokens,
            **_values(ctx),
        )
    ctx.start_session(changed.issued)
    return ctx.render("password_changed.html", changed=changed)


def end_others(ctx: PageContext) -> Response:
    session, account = ctx.signed_in()
    ctx.services.login.sign_out_others(session, account, ctx.ip)
    return ctx.redirect("/security/password", "others-signed-out")
