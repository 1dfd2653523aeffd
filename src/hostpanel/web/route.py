"""A page's route: the checks its declaration asks for, run before its handler, for forms and uploads alike.

A page handler is a plain function of a PageContext, run in a worker thread. `route()` wraps it so that no handler
can forget a check, and every check is declared on the route: a POST without a valid CSRF token from the same origin
never reaches a handler, a page for signed-in users never runs without a live session, a page of a module whose
feature is off never runs (the one authorisation rule the API uses), and a sudo page never runs outside its window.
An upload form passes the very same admission before a byte of its files is received.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from hostpanel.domain.errors import AuthenticationFailed, HostpanelError, PermissionDenied
from hostpanel.domain.files.service import Upload
from hostpanel.domain.permissions import SCOPE_FEATURES, Feature, Scope, ScopeModule, check_access
from hostpanel.domain.permissions import Access as ScopeAccess
from hostpanel.domain.security.lockout import LoginKind
from hostpanel.domain.sessions.model import SessionStage
from hostpanel.domain.whm.acls import require
from hostpanel.http.body import FORM_TYPE, MULTIPART_TYPE, RequestTooLarge, declared_too_large, has_type, read_limited
from hostpanel.http.uploads import MultipartReceiver, UploadTooLarge, receive
from hostpanel.web.credentials import same_origin
from hostpanel.web.page import PAGE_HEADERS, Access, Handler, PageContext, Site
from hostpanel.web.render import render

log = logging.getLogger(__name__)


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
    acls: tuple[str, ...] | None = None  # a WHM page: the ACLs of which the signed-in user needs one

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
        _resume(context, self.site, self.write)
        return (
            self._stage_refused(context)
            or self._forgery_refused(context, token_checked)
            or self._feature_denied(context)
            or self._privilege_denied(context)
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
            return context.redirect(context.home if stage == SessionStage.SIGNED_IN else "/login")
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

    def _privilege_denied(self, context: PageContext) -> Response | None:
        """A WHM page the signed-in user lacks the ACL for, through the rule WHM API 1 uses."""
        if self.acls is None or context.account is None:
            return None
        try:
            require(context.principal.privileges, self.acls)
        except PermissionDenied as denied:
            return context.render("error.html", 403, code=403, reason=denied.message)
        return None


def _resume(context: PageContext, site: Site, write: bool) -> None:
    """The session from its cookie. A page that does not write in its own transaction (its work runs in
    transactions of its own) has "last seen" written in a short one first: written inside the page's, it would hold
    SQLite's write lock that the page's own work then waits for."""
    names = context.names
    cookies = context.request.cookies
    context.pre_session = cookies.get(names.pre_session) or None
    secret = context.keys.session_secret(cookies.get(names.session))
    sessions = context.services.sessions
    found = sessions.resume(secret, context.service, touch=write) if secret else None
    if found is None:
        if cookies.get(names.session):
            context._cookies.append((names.session, None))
        return
    context.session, context.account = found
    context.session_secret = secret
    if not write and sessions.touch_due(context.session):
        with site.begin(True) as uow:
            site.services.sessions(uow).touch(context.session)
            uow.commit()


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
    acls: tuple[str, ...] | None = None,
) -> Route:
    """A page's route: its path and methods, and the checks every request to it passes first."""
    page = Page(site, handler, access, sudo, module, feature, uploads, write, acls)
    return Route(path, page.endpoint, methods=list(methods), name=f"{handler.__module__}.{handler.__name__}")
