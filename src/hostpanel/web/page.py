"""What a page handler works with: the request's form, session and account, its services, cookies, CSRF tokens,
and the answers (a template, a form with its errors, a redirect). The checks before a handler runs are its route's
(`web.route`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.errors import AuthenticationFailed, HostpanelError
from hostpanel.domain.files.service import Upload
from hostpanel.domain.files.staging import Staging
from hostpanel.domain.login.throttle import LoginThrottle
from hostpanel.domain.permissions import Feature
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.security.lockout import LoginGuard, LoginKind, Refusal
from hostpanel.domain.sessions.model import IssuedSession, SessionPolicy, SessionStage, WebSession
from hostpanel.http.address import client_address
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

PAGE_HEADERS = {"Cache-Control": "no-store", "Cross-Origin-Opener-Policy": "same-origin"}
# Sections of the side navigation: (path, label, the account feature the page needs; None: always there).
NAVIGATION: tuple[tuple[str, tuple[tuple[str, str, Feature | None], ...]], ...] = (
    ("Files", (("/files", "File Manager", Feature.FILEMANAGER), ("/backups", "Backups", Feature.BACKUP))),
    (
        "Domains",
        (
            ("/domains", "Domains", None),
            ("/domains/zone-editor", "Zone Editor", None),
            ("/domains/ssl", "SSL/TLS", Feature.SSLINSTALL),
        ),
    ),
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


# WHM's sections: (path, label, the ACL the page needs; None: any WHM user).
WHM_NAVIGATION: tuple[tuple[str, tuple[tuple[str, str, str | None], ...]], ...] = (
    (
        "Accounts",
        (
            ("/accounts", "List Accounts", "list-accts"),
            ("/accounts/new", "Create a New Account", "create-acct"),
            ("/packages", "Packages", "list-pkgs"),
        ),
    ),
    ("Resellers", (("/resellers", "Resellers", "all"),)),
    (
        "Security",
        (
            ("/api-tokens", "API Tokens", None),
            ("/token-oversight", "Token Oversight", "list-accts"),
            ("/security/two-factor", "Two-Factor Authentication", None),
            ("/security/password", "Password", None),
        ),
    ),
)


def whm_navigation(principal: Principal) -> list[tuple[str, list[tuple[str, str]]]]:
    """WHM's sections and links as the signed-in root or reseller may use them."""
    held = principal.privileges
    shown = []
    for title, links in WHM_NAVIGATION:
        kept = [(href, label) for href, label, acl in links if acl is None or (held is not None and held.has(acl))]
        if kept:
            shown.append((title, kept))
    return shown


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
    service: Service = Service.CPANEL  # the account's interface, or WHM's

    @property
    def home(self) -> str:
        """Where a signed-in user lands."""
        return "/accounts" if self.service == Service.WHM else "/security/tokens"


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
        return CookieNames.for_request(self.request, "whm" if self.service == Service.WHM else "")

    @property
    def service(self) -> Service:
        return self._site.service

    @property
    def home(self) -> str:
        return self._site.home

    @property
    def principal(self) -> Principal:
        assert self.account is not None
        return Principal(account=self.account, method=AuthMethod.PASSWORD, ip=self.ip, service=self.service)

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
        if signed_in is None:
            menu = []
        elif self.service == Service.WHM:
            menu = whm_navigation(self.principal)
        else:
            menu = navigation(signed_in.disabled_features)
        common: dict[str, Any] = {
            "account": signed_in,
            "csrf_token": self.csrf_token(),
            "navigation": menu,
            "whm": self.service == Service.WHM,
            "home": self.home,
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
