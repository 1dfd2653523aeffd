"""Signing in (password, then the two-factor code), signing out, and re-entering credentials for sudo mode."""

from __future__ import annotations

from starlette.responses import Response

from hostpanel.domain.errors import AuthenticationFailed, HostpanelError
from hostpanel.domain.login.service import WRONG_CODE, WRONG_CREDENTIALS
from hostpanel.domain.sessions.model import SessionStage
from hostpanel.web.page import PageContext, safe_next


def home(ctx: PageContext) -> Response:
    """`/`: the sign-in page for visitors, the Security section for signed-in users."""
    if ctx.session is not None and ctx.session.stage == SessionStage.SIGNED_IN:
        return ctx.redirect("/security/tokens")
    return login_form(ctx)


def login_form(ctx: PageContext) -> Response:
    if ctx.session is not None:
        target = "/login/code" if ctx.session.stage == SessionStage.SECOND_FACTOR else "/security/tokens"
        return ctx.redirect(target)
    return ctx.render("login.html", username="", next=safe_next(ctx.query.get("next")))


def login(ctx: PageContext) -> Response:
    username = str(ctx.form.get("username", "")).strip()
    password = str(ctx.form.get("password", ""))
    target = safe_next(str(ctx.form.get("next", "")))
    if refusal := ctx.credential_blocked(username):
        return ctx.locked_out(refusal, "login.html", username=username, next=target)
    try:
        signed = ctx.services.login.sign_in(username, password, ctx.ip, ctx.request.headers.get("user-agent"))
    except AuthenticationFailed as refused:
        ctx.credential_failed(username)
        return ctx.form_error(refused, "login.html", refused=WRONG_CREDENTIALS, username=username, next=target)
    ctx.start_session(signed.issued)
    if signed.needs_second_factor:
        return ctx.redirect("/login/code", next=target)
    ctx.credential_succeeded(username)
    return ctx.redirect(target)


def code_form(ctx: PageContext) -> Response:
    return ctx.render("login_code.html", next=safe_next(ctx.query.get("next")))


def code(ctx: PageContext) -> Response:
    session, account = ctx.signed_in_partially()
    target = safe_next(str(ctx.form.get("next", "")))
    if refusal := ctx.credential_blocked(account.username):
        return ctx.locked_out(refusal, "login_code.html", next=target)
    try:
        issued = ctx.services.login.second_factor(session, account, str(ctx.form.get("code", "")), ctx.ip)
    except HostpanelError as refused:
        ctx.credential_failed(account.username)
        return ctx.form_error(refused, "login_code.html", refused=WRONG_CODE, next=target)
    ctx.credential_succeeded(account.username)
    ctx.start_session(issued)
    return ctx.redirect(target)


def logout(ctx: PageContext) -> Response:
    if ctx.session is not None and ctx.account is not None:
        ctx.services.login.sign_out(ctx.session, ctx.account, ctx.ip)
    ctx.end_session()
    return ctx.redirect("/login", "signed-out")


def confirm_form(ctx: PageContext) -> Response:
    _, account = ctx.signed_in()
    needs_code = ctx.services.twofactor.is_enabled(account)
    return ctx.render("confirm.html", needs_code=needs_code, next=safe_next(ctx.query.get("next")))


def confirm(ctx: PageContext) -> Response:
    session, account = ctx.signed_in()
    target = safe_next(str(ctx.form.get("next", "")))
    password, code_text = str(ctx.form.get("password", "")), str(ctx.form.get("code", ""))
    needs_code = ctx.services.twofactor.is_enabled(account)
    if refusal := ctx.credential_blocked(account.username):
        return ctx.locked_out(refusal, "confirm.html", needs_code=needs_code, next=target)
    try:
        ctx.services.login.confirm(session, account, password, code_text, ctx.ip)
    except HostpanelError as refused:
        ctx.credential_failed(account.username)
        return ctx.form_error(refused, "confirm.html", needs_code=needs_code, next=target)
    return ctx.redirect(target)
