"""How every page runs: one transaction, the session from its cookie, the access level, CSRF on every POST, sudo.

A page handler is a plain function of a PageContext, run in a worker thread. `page()` wraps it so that no handler
can forget a check: a POST without a valid CSRF token from the same origin never reaches a handler, a page for
signed-in users never runs without a live session, and a sudo page never runs outside the ten-minute window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, QueryParams, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from hostpanel.api.address import client_address
from hostpanel.api.uapi.dispatcher import RequestTooLarge, read_limited
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.errors import AuthenticationFailed, HostpanelError, PermissionDenied
from hostpanel.domain.permissions import SCOPE_FEATURES, Scope, ScopeModule, check_access
from hostpanel.domain.permissions import Access as ScopeAccess
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.security.lockout import LoginKind, Refusal
from hostpanel.domain.sessions.model import IssuedSession, SessionStage, WebSession
from hostpanel.web.credentials import (
    BrowserKeys,
    CookieNames,
    clear_cookie,
    new_pre_session,
    same_origin,
    set_cookie,
)
from hostpanel.web.messages import NOTICES, form_message
from hostpanel.web.render import render

log = logging.getLogger(__name__)

FORM_TYPE = "application/x-www-form-urlencoded"
PAGE_HEADERS = {"Cache-Control": "no-store", "Cross-Origin-Opener-Policy": "same-origin"}
NAVIGATION = [
    ("/security/tokens", "API Tokens"),
    ("/security/two-factor", "Two-Factor Authentication"),
    ("/security/password", "Password"),
    ("/security/activity", "Activity"),
]


class Access(Enum):
    ANYONE = "anyone"
    SECOND_FACTOR = "second_factor"  # the password was right, the code is awaited
    SIGNED_IN = "signed_in"


@dataclass
class PageContext:
    request: Request
    container: Container
    uow: UnitOfWork
    keys: BrowserKeys
    form: FormData
    session: WebSession | None = None
    account: Account | None = None
    session_secret: str | None = None
    pre_session: str | None = None
    delay: float = 0.0
    failed: HostpanelError | None = None
    failed_credentials: list[str] = field(default_factory=list)  # usernames, counted once the transaction ends
    _cookies: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def ip(self) -> str | None:
        return client_address(self.request.scope)

    def credential_blocked(self, username: str) -> Refusal | None:
        """Before checking a password or code: refused while the address or the account is locked out."""
        return self.container.login_guard.check(self.ip, username, LoginKind.PASSWORD)

    def credential_failed(self, username: str) -> None:
        """A wrong password or code: answer slowly now, and count it against the address and the account."""
        self.delay = self.container.login_throttle.failed(self.ip, username)
        self.failed_credentials.append(username)

    def locked_out(self, refusal: Refusal, template: str, **values: Any) -> HTMLResponse:
        """The same answer whether or not the account exists, with cPHulk's wait."""
        blocked = AuthenticationFailed("locked out")
        response = self.form_error(blocked, template, refused=refusal.message, **values)
        response.status_code = 429
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response

    @property
    def query(self) -> QueryParams:
        return self.request.query_params

    @property
    def names(self) -> CookieNames:
        return CookieNames.for_request(self.request)

    @property
    def principal(self) -> Principal:
        assert self.account is not None
        return Principal(account=self.account, method=AuthMethod.PASSWORD, ip=self.ip)

    def signed_in(self) -> tuple[WebSession, Account]:
        assert self.session is not None and self.account is not None, "page declared without Access.SIGNED_IN"
        return self.session, self.account

    def signed_in_partially(self) -> tuple[WebSession, Account]:
        """The half-signed-in session waiting for its second factor (pages declared Access.SECOND_FACTOR)."""
        assert self.session is not None and self.account is not None, "page declared without Access.SECOND_FACTOR"
        return self.session, self.account

    def feature_denied(self, module: ScopeModule) -> Response | None:
        """The page for a switched-off account feature, through the one authorisation rule; None when allowed."""
        assert self.account is not None
        try:
            check_access(None, self.account.disabled_features, Scope(module, ScopeAccess.READ), SCOPE_FEATURES[module])
        except PermissionDenied as denied:
            return self.render("error.html", 403, code=403, reason=denied.message)
        return None

    # Cookies and CSRF

    def csrf_token(self) -> str:
        if self.session_secret is not None:
            return self.keys.csrf_token(self.session_secret)
        if self.pre_session is None:
            self.pre_session = new_pre_session()
            self._cookies.append((self.names.pre_session, self.pre_session))
        return self.keys.csrf_token(self.pre_session)

    def csrf_ok(self) -> bool:
        binding = self.session_secret if self.session_secret is not None else self.pre_session
        return same_origin(self.request) and self.keys.csrf_ok(binding, self.form.get("csrf_token"))  # type: ignore[arg-type]

    def start_session(self, issued: IssuedSession) -> None:
        self.session, self.session_secret = issued.session, issued.secret
        self._cookies.append((self.names.session, self.keys.session_cookie_value(issued.secret)))
        if self.pre_session is not None:
            self._cookies.append((self.names.pre_session, None))
            self.pre_session = None

    def end_session(self) -> None:
        self.session = self.account = self.session_secret = None
        self._cookies.append((self.names.session, None))

    def apply_cookies(self, response: Response) -> None:
        for name, value in self._cookies:
            if value is None:
                clear_cookie(response, self.request, name)
            else:
                set_cookie(response, self.request, name, value)

    # Answers

    def render(self, template: str, status: int = 200, /, **values: Any) -> HTMLResponse:
        assert "status" not in values, "the HTTP status is the second positional argument"
        notice = NOTICES.get(self.query.get("notice", ""))
        common: dict[str, Any] = {
            "account": self.account if self.session and self.session.stage == SessionStage.SIGNED_IN else None,
            "csrf_token": self.csrf_token(),
            "navigation": NAVIGATION,
            "path": self.request.url.path,
            "notice": notice,
            "errors": {},
            "message": None,
        }
        return HTMLResponse(render(template, {**common, **values}), status_code=status)

    def form_error(
        self,
        error: HostpanelError,
        template: str,
        *,
        fields: dict[str, str] | None = None,
        refused: str = "The password or code is incorrect.",
        conflict_field: str | None = None,
        **values: Any,
    ) -> HTMLResponse:
        """Show the form again with the error beside its field (or atop the form). Only a refused credential's
        audit record is kept: any other failure rolls the whole transaction back."""
        self.failed = error
        message = form_message(error, fields=fields, refused=refused, conflict_field=conflict_field)
        errors = {message.field: message.text} if message.field else {}
        top = None if message.field else message
        return self.render(template, 400, errors=errors, message=top, **values)

    def redirect(self, path: str, notice: str | None = None, **params: str) -> RedirectResponse:
        query = {**params, **({"notice": notice} if notice else {})}
        return RedirectResponse(path + ("?" + urlencode(query) if query else ""), status_code=303)


Handler = Callable[[PageContext], Response]


def safe_next(target: str | None, default: str = "/security/tokens") -> str:
    """Only paths on this site: no scheme, no host, no `//` or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@dataclass
class Page:
    container: Container
    keys: BrowserKeys
    handler: Handler
    access: Access
    sudo: bool = False

    async def endpoint(self, request: Request) -> Response:
        try:
            form = await _read_form(request, self.container.settings.max_request_bytes)
        except RequestTooLarge:
            return HTMLResponse("The form is too large.", status_code=413, headers=PAGE_HEADERS)
        response, delay = await run_in_threadpool(self._run, request, form)
        if delay > 0:
            await asyncio.sleep(delay)  # slows guessing without holding a worker thread
        return response

    def _run(self, request: Request, form: FormData) -> tuple[Response, float]:
        try:
            with self.container.uow() as uow:
                context = PageContext(request, self.container, uow, self.keys, form)
                response = self._checked(context)
                if context.failed is None or isinstance(context.failed, AuthenticationFailed):
                    uow.commit()
        except Exception:
            log.exception("page %s %s failed", request.method, request.url.path)
            page = render("error.html", {"code": 500, "account": None, "navigation": [], "notice": None})
            return HTMLResponse(page, status_code=500, headers=PAGE_HEADERS), 0.0
        self._count_failures(context)
        context.apply_cookies(response)
        for name, value in PAGE_HEADERS.items():
            response.headers.setdefault(name, value)
        return response, context.delay

    def _count_failures(self, context: PageContext) -> None:
        # After the page's transaction: on SQLite a second writer inside it would wait for its own lock.
        for username in context.failed_credentials:
            try:
                self.container.login_guard.record_failure(context.ip, username, LoginKind.PASSWORD)
            except Exception:
                log.exception("could not count a failed sign-in")

    def _checked(self, context: PageContext) -> Response:
        request = context.request
        _resume(context)
        stage = context.session.stage if context.session else None
        if self.access == Access.SIGNED_IN and stage != SessionStage.SIGNED_IN:
            if stage == SessionStage.SECOND_FACTOR:
                return context.redirect("/login/code")
            notice = "session-ended" if request.cookies.get(context.names.session) else None
            return context.redirect("/login", notice, next=_here(request))
        if self.access == Access.SECOND_FACTOR and stage != SessionStage.SECOND_FACTOR:
            return context.redirect("/security/tokens" if stage == SessionStage.SIGNED_IN else "/login")
        if request.method == "POST" and not context.csrf_ok():
            context.failed = HostpanelError("CSRF")  # nothing this request did is kept
            return context.render("error.html", 403, code=403)
        if (
            self.sudo
            and context.session
            and not context.session.in_sudo(context.container.session_policy, _now(context))
        ):
            return context.redirect("/security/confirm", next=_here(request))
        return self.handler(context)


def _resume(context: PageContext) -> None:
    names = context.names
    cookies = context.request.cookies
    context.pre_session = cookies.get(names.pre_session) or None
    secret = context.keys.session_secret(cookies.get(names.session))
    found = context.container.sessions(context.uow).resume(secret) if secret else None
    if found is None:
        if cookies.get(names.session):
            context._cookies.append((names.session, None))
        return
    context.session, context.account = found
    context.session_secret = secret


def _now(context: PageContext) -> float:
    return context.container.clock.now()


def _here(request: Request) -> str:
    """Where to come back to. A POST's GET twin shows the same form, so a lapsed sudo window loses one click."""
    if request.method == "POST" or not request.url.query:
        return request.url.path
    return f"{request.url.path}?{request.url.query}"


async def _read_form(request: Request, limit: int) -> FormData:
    if request.method != "POST" or not request.headers.get("content-type", "").startswith(FORM_TYPE):
        return FormData()
    body = await read_limited(request, limit)
    pairs: list[tuple[str, str | UploadFile]] = list(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return FormData(pairs)


def route(
    container: Container,
    keys: BrowserKeys,
    path: str,
    handler: Handler,
    *,
    methods: tuple[str, ...] = ("GET",),
    access: Access = Access.SIGNED_IN,
    sudo: bool = False,
) -> Route:
    page = Page(container, keys, handler, access, sudo)
    return Route(path, page.endpoint, methods=list(methods), name=f"{handler.__module__}.{handler.__name__}")
