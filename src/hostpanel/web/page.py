"""How every page runs: one transaction, the session from its cookie, the access level, CSRF on every POST, the
account feature, sudo.

A page handler is a plain function of a PageContext, run in a worker thread. `route()` wraps it so that no handler
can forget a check, and every check is declared on the route: a POST without a valid CSRF token from the same origin
never reaches a handler, a page for signed-in users never runs without a live session, a page of a module whose
feature is off never runs (the one authorisation rule the API uses), and a sudo page never runs outside its window.
An upload form passes the very same admission before a byte of its files is received.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, QueryParams, UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from hostpanel.domain.accounts.model import Account
from hostpanel.domain.errors import AuthenticationFailed, HostpanelError, PermissionDenied
from hostpanel.domain.files.service import Upload
from hostpanel.domain.files.staging import Staging
from hostpanel.domain.login.throttle import LoginThrottle
from hostpanel.domain.permissions import SCOPE_FEATURES, Feature, Scope, ScopeModule, check_access
from hostpanel.domain.permissions import Access as ScopeAccess
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.security.lockout import LoginGuard, LoginKind, Refusal
from hostpanel.domain.sessions.model import IssuedSession, SessionPolicy, SessionStage, WebSession
from hostpanel.http.address import client_address
from hostpanel.http.body import FORM_TYPE, MULTIPART_TYPE, RequestTooLarge, declared_too_large, has_type, read_limited
from hostpanel.http.uploads import MultipartReceiver, UploadTooLarge, receive
from hostpanel.services import ServiceFactory, Services
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

PAGE_HEADERS = {"Cache-Control": "no-store", "Cross-Origin-Opener-Policy": "same-origin"}
# Sections of the side navigation: (path, label, the account feature the page needs; None: always there).
NAVIGATION: tuple[tuple[str, tuple[tuple[str, str, Feature | None], ...]], ...] = (
    ("Files", (("/files", "File Manager", Feature.FILEMANAGER), ("/backups", "Backups", Feature.BACKUP))),
    (
        "Email",
        (
            ("/email/accounts", "Email Accounts", Feature.POPACCTS),
            ("/email/forwarders", "Forwarders", Feature.FORWARDERS),
        ),
    ),
    (
        "Security",
        (
            ("/security/tokens", "API Tokens", Feature.APITOKENS),
            ("/security/two-factor", "Two-Factor Authentication", Feature.TWOFACTORAUTH),
            ("/security/password", "Password", None),
            ("/security/activity", "Activity", None),
        ),
    ),
)


def navigation(disabled_features: frozenset[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The sections and links an account sees: a page whose feature is switched off is not offered."""
    shown = []
    for title, links in NAVIGATION:
        kept = [(href, label) for href, label, feature in links if feature is None or feature not in disabled_features]
        if kept:
            shown.append((title, kept))
    return shown


class Access(Enum):
    """Who may open a page."""

    ANYONE = "anyone"
    SECOND_FACTOR = "second_factor"  # the password was right, the code is awaited
    SIGNED_IN = "signed_in"


@dataclass(frozen=True)
class Site:
    """What the web interface is made of, handed over by the composition root."""

    services: ServiceFactory
    begin: Callable[[bool], UnitOfWork]  # a unit of work, for writing or not
    keys: BrowserKeys
    login_guard: LoginGuard
    login_throttle: LoginThrottle
    session_policy: SessionPolicy
    staging: Staging


@dataclass
class PageContext:
    """One page request: the form, the session and account once resumed, and the services of this request."""

    request: Request
    form: FormData
    _site: Site
    _uow: UnitOfWork
    session: WebSession | None = None
    account: Account | None = None
    session_secret: str | None = None
    pre_session: str | None = None
    delay: float = 0.0
    failed: HostpanelError | None = None
    failed_credentials: list[str] = field(default_factory=list)  # usernames, counted once the transaction ends
    uploads: list[Upload] = field(default_factory=list)  # files of a multipart form, waiting in the staging area
    upload_too_large: bool = False  # the multipart form passed HOSTPANEL_MAX_UPLOAD_BYTES; no file was kept
    _cookies: list[tuple[str, str | None]] = field(default_factory=list)

    @cached_property
    def services(self) -> Services:
        """The services of this request; those acting for someone act for the signed-in account."""
        return Services(self._site.services, self._uow, lambda: self.principal)

    @property
    def keys(self) -> BrowserKeys:
        return self._site.keys

    @property
    def ip(self) -> str | None:
        return client_address(self.request.scope)

    def credential_blocked(self, username: str) -> Refusal | None:
        """Before checking a password or code: refused while the address or the account is locked out."""
        return self._site.login_guard.check(self.ip, username, LoginKind.PASSWORD)

    def credential_failed(self, username: str) -> None:
        """A wrong password or code: answer slowly now, and count it against the address and the account."""
        self.delay = self._site.login_throttle.failed(self.ip, username)
        self.failed_credentials.append(username)

    def credential_succeeded(self, username: str) -> None:
        """A right password or code: the slow-down for the address and the account starts over."""
        self._site.login_throttle.succeeded(self.ip, username)

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
        token = self.form.get("csrf_token")
        return same_origin(self.request) and self.keys.csrf_ok(binding, token if isinstance(token, str) else None)

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
        signed_in = self.account if self.session and self.session.stage == SessionStage.SIGNED_IN else None
        common: dict[str, Any] = {
            "account": signed_in,
            "csrf_token": self.csrf_token(),
            "navigation": navigation(signed_in.disabled_features) if signed_in else [],
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
        fields: Mapping[str, str | None] | None = None,
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

    def redirect(self, path: str, notice: str | None = None, /, **params: str) -> RedirectResponse:
        query = {**params, **({"notice": notice} if notice else {})}
        return RedirectResponse(path + ("?" + urlencode(query) if query else ""), status_code=303)


Handler = Callable[[PageContext], Response]


def safe_next(target: str | None, default: str = "/security/tokens") -> str:
    """Only paths on this site: no scheme, no host, no `//` or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


class _FormRefused(Exception):
    """A multipart form reached a file part without this session's CSRF token before it."""


@dataclass
class Page:
    """A page's route endpoint: the handler with the checks its route declares."""

    site: Site
    handler: Handler
    access: Access
    sudo: bool = False
    module: ScopeModule | None = None  # the account feature of this module (or `feature`) must be on
    feature: Feature | None = None
    uploads: bool = False  # takes multipart forms with files
    write: bool = True  # False for long work that must not hold the write lock (it records in its own transactions)

    async def endpoint(self, request: Request) -> Response:
        if self.uploads and has_type(request, MULTIPART_TYPE):
            return await self._with_uploads(request)
        try:
            form = await _read_form(request, self.site.services.limits.max_request_bytes)
        except RequestTooLarge:
            return HTMLResponse("The form is too large.", status_code=413, headers=PAGE_HEADERS)
        return await self._answer(request, form)

    async def _answer(self, request: Request, form: FormData, *extra: Any) -> Response:
        response, delay = await run_in_threadpool(self._run, request, form, *extra)
        if delay > 0:
            await asyncio.sleep(delay)  # slows guessing without holding a worker thread
        return response

    async def _with_uploads(self, request: Request) -> Response:
        """A multipart form. Nothing is stored before the page's admission passed (session, origin, feature, sudo),
        and no file before this session's CSRF token has arrived (our forms send it first); files are streamed
        into the staging area, bounded by HOSTPANEL_MAX_UPLOAD_BYTES, and whatever the handler does not place is
        removed. Every refusal is then answered by the usual run, with the fields received so far."""
        admitted = await run_in_threadpool(self._admit_upload, request)
        if admitted is None:
            return await self._answer(request, FormData())
        secret, username = admitted
        limits = self.site.services.limits
        too_large_declared = declared_too_large(request, limits.max_upload_bytes)

        def before_file(fields: list[tuple[str, str]]) -> None:
            if not self.site.keys.csrf_ok(secret, dict(fields).get("csrf_token")):
                raise _FormRefused
            if too_large_declared:
                raise UploadTooLarge  # the fields before the first file are enough to answer

        try:
            receiver = MultipartReceiver(
                self.site.staging,
                username,
                request.headers["content-type"],
                max_bytes=limits.max_upload_bytes,
                max_field_bytes=limits.max_request_bytes,
                accept_files=True,
                before_file=before_file,
            )
        except HostpanelError:
            return HTMLResponse("The form could not be read.", status_code=400, headers=PAGE_HEADERS)
        too_large = False
        try:
            try:
                await receive(receiver, request)
            except UploadTooLarge:
                too_large = True
            except (_FormRefused, HostpanelError, ClientDisconnect):
                return await self._answer(request, _fields(receiver))  # refused by the CSRF check
            response = await self._answer(request, _fields(receiver), receiver.uploads, too_large)
            if too_large:
                response.headers["Connection"] = "close"  # else the server reads (and drops) the rest of the body
            return response
        finally:
            await run_in_threadpool(receiver.discard)

    def _admit_upload(self, request: Request) -> tuple[str, str] | None:
        """The session's secret and the account's name when the page's admission lets the request send files
        (its CSRF token comes with the form's first fields); None otherwise."""
        try:
            with self.site.begin(False) as uow:
                context = PageContext(request, FormData(), self.site, uow)
                if self._admission(context, token_checked=False) is not None:
                    return None
                assert context.session_secret is not None and context.account is not None
                return context.session_secret, context.account.username
        except Exception:
            log.exception("checking an upload to %s failed", request.url.path)
            return None  # the page's own run reports it

    def _run(
        self, request: Request, form: FormData, uploads: list[Upload] | None = None, too_large: bool = False
    ) -> tuple[Response, float]:
        try:
            with self.site.begin(self.write) as uow:
                context = PageContext(request, form, self.site, uow)
                context.uploads, context.upload_too_large = uploads or [], too_large
                response = self._admission(context, token_checked=True) or self.handler(context)
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
                self.site.login_guard.record_failure(context.ip, username, LoginKind.PASSWORD)
            except Exception:
                log.exception("could not count a failed sign-in")

    def _admission(self, context: PageContext, *, token_checked: bool) -> Response | None:
        """Every check the route declares, in order; the answer refusing the request, or None when the handler may
        run. Without `token_checked` (an upload, before its fields arrived) a POST must come from this site, and
        its CSRF token is checked when the first file begins."""
        _resume(context)
        return (
            self._stage_refused(context)
            or self._forgery_refused(context, token_checked)
            or self._feature_denied(context)
            or self._sudo_needed(context)
        )

    def _stage_refused(self, context: PageContext) -> Response | None:
        """Where to go instead when the session is not at the stage the page needs."""
        request = context.request
        stage = context.session.stage if context.session else None
        if self.access == Access.SIGNED_IN and stage != SessionStage.SIGNED_IN:
            if stage == SessionStage.SECOND_FACTOR:
                return context.redirect("/login/code")
            notice = "session-ended" if request.cookies.get(context.names.session) else None
            return context.redirect("/login", notice, next=_here(request))
        if self.access == Access.SECOND_FACTOR and stage != SessionStage.SECOND_FACTOR:
            return context.redirect("/security/tokens" if stage == SessionStage.SIGNED_IN else "/login")
        return None

    @staticmethod
    def _forgery_refused(context: PageContext, token_checked: bool) -> Response | None:
        """A POST from another site, or (once its fields are read) without this session's CSRF token."""
        request = context.request
        if request.method != "POST" or (context.csrf_ok() if token_checked else same_origin(request)):
            return None
        context.failed = HostpanelError("CSRF")  # nothing this request did is kept
        return context.render("error.html", 403, code=403)

    def _sudo_needed(self, context: PageContext) -> Response | None:
        """The way to the sudo confirmation, when the page needs the window and it is closed."""
        session = context.session
        if self.sudo and session and not session.in_sudo(self.site.session_policy, _now(context)):
            return context.redirect("/security/confirm", next=_here(context.request))
        return None

    def _feature_denied(self, context: PageContext) -> Response | None:
        """The page for a switched-off account feature, through the one authorisation rule the API uses."""
        if self.module is None or context.account is None:
            return None
        needed = self.feature if self.feature is not None else SCOPE_FEATURES[self.module]
        try:
            check_access(None, context.account.disabled_features, Scope(self.module, ScopeAccess.READ), needed)
        except PermissionDenied as denied:
            return context.render("error.html", 403, code=403, reason=denied.message)
        return None


def _resume(context: PageContext) -> None:
    names = context.names
    cookies = context.request.cookies
    context.pre_session = cookies.get(names.pre_session) or None
    secret = context.keys.session_secret(cookies.get(names.session))
    found = context.services.sessions.resume(secret) if secret else None
    if found is None:
        if cookies.get(names.session):
            context._cookies.append((names.session, None))
        return
    context.session, context.account = found
    context.session_secret = secret


def _now(context: PageContext) -> float:
    return context.services.clock.now()


def _here(request: Request) -> str:
    """Where to come back to. A POST's GET twin shows the same form, so a lapsed sudo window loses one click."""
    if request.method == "POST" or not request.url.query:
        return request.url.path
    return f"{request.url.path}?{request.url.query}"


def _fields(receiver: MultipartReceiver) -> FormData:
    pairs: list[tuple[str, str | UploadFile]] = list(receiver.fields)
    return FormData(pairs)


async def _read_form(request: Request, limit: int) -> FormData:
    if request.method != "POST" or not has_type(request, FORM_TYPE):
        return FormData()
    body = await read_limited(request, limit)
    pairs: list[tuple[str, str | UploadFile]] = list(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return FormData(pairs)


def route(
    site: Site,
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
) -> Route:
    """A page's route: its path and methods, and the checks every request to it passes first."""
    page = Page(site, handler, access, sudo, module, feature, uploads, write)
    return Route(path, page.endpoint, methods=list(methods), name=f"{handler.__module__}.{handler.__name__}")
