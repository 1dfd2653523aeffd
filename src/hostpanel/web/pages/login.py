"""Signing in (password, then the two-factor code, or once with a single sign-on link), signing out, and re-entering
credentials for sudo mode; the same pages serve the account's interface and WHM's."""

from __future__ import annotations

from starlette.responses import Response

from hostpanel.domain.errors import AuthenticationFailed, HostpanelError
from hostpanel.domain.login.service import WRONG_CODE, WRONG_CREDENTIALS
from hostpanel.domain.sessions.model import SessionStage
from hostpanel.web.messages import FormMessage
from hostpanel.web.page import PageContext, safe_next


def home(ctx: PageContext) -> Response:
    """`/`: the sign-in page for visitors, the Security section for signed-in users."""
    if ctx.session is not None and ctx.session.stage == SessionStage.SIGNED_IN:
        return ctx.redirect(ctx.home)
    return login_form(ctx)


def login_form(ctx: PageContext) -> Response:
    if ctx.session is not None:
        target = "/login/code" if ctx.session.stage == SessionStage.SECOND_FACTOR else ctx.home
        return ctx.redirect(target)
    return ctx.render("login.html", username="", next=safe_next(ctx.query.get("next"), ctx.home))


def login(ctx: PageContext) -> Response:
    username = str(ctx.form.get("username", "")).strip()
    password = str(ctx.form.get("password", ""))
    target = safe_next(str(ctx.form.get("next", "")), ctx.home)
    if refusal := ctx.credential_blocked(username):
        return ctx.locked_out(refusal, "login.html", username=username, next=target)
    try:
        agent = ctx.request.headers.get("user-agent")
        signed = ctx.services.login.sign_in(username, password, ctx.ip, agent, ctx.service)
    except AuthenticationFailed as refused:
        ctx.credential_failed(username)
        return ctx.form_error(refused, "login.html", refused=WRONG_CREDENTIALS, username=username, next=target)
    ctx.start_session(signed.issued)
    if signed.needs_second_factor:
        return ctx.redirect("/login/code", next=target)
    ctx.credential_succeeded(username)
    return ctx.redirect(target)


def code_form(ctx: PageContext) -> Response:
    return ctx.render("login_code.html", next=safe_next(ctx.query.get("next"), ctx.home))


def code(ctx: PageContext) -> Response:
    session, account = ctx.signed_in_partially()
    target = safe_next(str(ctx.form.get("next", "")), ctx.home)
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
    return ctx.render("confirm.html", needs_code=needs_code, next=safe_next(ctx.query.get("next"), ctx.home))


def confirm(ctx: PageContext) -> Response:
    session, account = ctx.signed_in()
    target = safe_next(str(ctx.form.get("next", "")), ctx.home)
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


def single_sign_on(ctx: PageContext) -> Response:
    """`/cpsessNNNNNNNNNN/login/?session=USER:SECRET`, a link WHM's create_user_session made: it signs this browser
    in once. The answer is a signed-in page that moves on to the link's page by itself: a session cookie that is
    SameSite=Strict is not sent on a redirect of a navigation that began on another site (a billing system), but it
    is on this page's own move."""
    _, _, secret = str(ctx.query.get("session", "")).partition(":")
    if refusal := ctx.credential_blocked(""):
        return ctx.locked_out(refusal, "login.html", username="", next=ctx.home)
    try:
        issued, account = ctx.services.single_sign_on.redeem(
            secret, ctx.service, ctx.ip, ctx.request.headers.get("user-agent")
        )
    except AuthenticationFailed as refused:
        ctx.credential_failed("")
        ctx.failed = refused
        return ctx.render("login.html", 400, username="", next=ctx.home, message=_LINK_REFUSED)
    ctx.start_session(issued)
    ctx.account = account
    target = safe_next(str(ctx.query.get("goto_uri", "")), ctx.home)
    return ctx.render("signed_in.html", target=target)


_LINK_REFUSED = FormMessage("This sign-in link is not valid: it was used already or has expired. Ask for a new one.")
