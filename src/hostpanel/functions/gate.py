"""The one way into a function, for every dialect: lockout, authentication, rate limit, lookup, authorisation,
audit, and the call in one transaction.

A dialect (UAPI, API 2, WHM API 1) only translates: it reads its request into credentials, a function's names and
arguments, asks the gate, and writes the gate's answer in its own envelope. Nothing here knows HTTP.

Order matters: a locked-out address is refused before anything is checked; then authentication (an unknown module
gets the authentication failure when there are no credentials, as cPanel answers), the token's rate limit, the
function lookup, and the one authorisation rule (`check_access`: scope ∩ account features ∩ token restrictions).
Every refusal of presented credentials and every denial is written to the audit trail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

from hostpanel.domain.audit.model import DetailValue, token_actor
from hostpanel.domain.audit.service import AuditWriter
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.errors import (
    AuthenticationFailed,
    HostpanelError,
    PermissionDenied,
    RestrictionDenied,
    WouldBlock,
)
from hostpanel.domain.files.service import Upload
from hostpanel.domain.permissions import check_access
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.security.lockout import LoginGuard, LoginKind
from hostpanel.domain.security.ratelimit import RateDecision, RateLimiter
from hostpanel.domain.tokens.authenticate import TokenAuthenticator
from hostpanel.domain.tokens.cache import Found, TokenCache
from hostpanel.domain.tokens.usage import UsageRecorder
from hostpanel.functions.args import Args
from hostpanel.functions.call import Call, NoDatabase
from hostpanel.functions.listing import ListOptions
from hostpanel.functions.registry import UAPI, Function, Registry, UnknownFunction
from hostpanel.services import ServiceFactory, Services

log = logging.getLogger(__name__)

Credentials = tuple[str, str]  # (username, token) as the caller presented them
RATE_LIMITED = "This API token has exceeded its request rate limit."


@dataclass(frozen=True)
class GateParts:
    """What admission and calls are made of, handed over by the composition root."""

    login_guard: LoginGuard
    authenticator: TokenAuthenticator
    tokens: TokenCache
    rate_limiter: RateLimiter
    default_rate_limit: int
    usage: UsageRecorder
    audit: AuditWriter
    begin: Callable[[bool], UnitOfWork]  # a unit of work, for writing or not
    services: ServiceFactory


@dataclass(frozen=True)
class Target:
    """A function as a dialect names it: its API's namespace, module and function name, and the account the call
    names when the dialect names one (API 2's `cpanel_jsonapi_user`): it must be the caller's own."""

    module: str
    function: str
    api: str = UAPI
    user: str | None = None

    @property
    def label(self) -> str:
        return f"{self.module}::{self.function}"


@dataclass(frozen=True)
class Admitted:
    """A caller allowed to call a function, and its rate-limit standing (reported in every answer)."""

    principal: Principal
    function: Function
    limit: RateDecision | None


@dataclass(frozen=True)
class Blocked:
    """The address (or account) is locked out; nothing was checked."""

    message: str
    retry_after: int


@dataclass(frozen=True)
class Unauthenticated:
    """Any authentication failure, all alike to the caller. `record` writes the reason to the audit trail: the
    dialect runs it after answering, so the caller never waits for it (None: nothing presented, nothing kept)."""

    record: Callable[[], None] | None


@dataclass(frozen=True)
class RateLimited:
    """The token has used its requests for this window."""

    message: str
    limit: RateDecision


@dataclass(frozen=True)
class Refused:
    """The call is refused in the answer's own terms (an unknown function, a denial), after authentication."""

    message: str
    limit: RateDecision | None
    error: HostpanelError | None = None


Refusal = Blocked | Unauthenticated | RateLimited | Refused


@dataclass
class Answer:
    """What a function gave back (`data`, possibly a `Download`), or the error it failed with, and what it added."""

    data: Any = None
    error: HostpanelError | None = None
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    function: Function | None = None  # which function answered (an envelope may name it)


class _FromMemory:
    """What authentication reads on the event loop: the token cache's current entries, never the database."""

    def __init__(self, cache: TokenCache) -> None:
        self._cache = cache

    def find_by_key(self, key: str) -> Found | None:
        return self._cache.find_in_memory(key)


class Gate:
    """Admits calls to the registry's functions and runs them; shared by every dialect."""

    def __init__(self, registry: Registry, parts: GateParts) -> None:
        self.registry = registry
        self._parts = parts
        self._from_memory = _FromMemory(parts.tokens)

    def admit(self, target: Target, credentials: Credentials | None, ip: str | None) -> Admitted | Refusal:
        """Who calls what, or why not. May read the database and Redis: call it from a worker thread."""
        refusal = self._parts.login_guard.check(ip, credentials[0] if credentials else None, LoginKind.TOKEN)
        if refusal is not None:
            return Blocked(refusal.message, refusal.retry_after)
        principal = self._authenticate(target, credentials, ip)
        if isinstance(principal, Unauthenticated):
            return principal
        self._parts.usage.note(principal)
        limit = self._rate_limit(principal)
        if limit is not None and not limit.allowed:
            return RateLimited(RATE_LIMITED, limit)
        return self._authorised(target, principal, limit)

    def _authenticate(
        self, target: Target, credentials: Credentials | None, ip: str | None
    ) -> Principal | Unauthenticated:
        parts = self._parts
        try:
            if credentials is None:
                raise AuthenticationFailed("missing or malformed Authorization header")
            return parts.authenticator.authenticate(parts.tokens, credentials[0], credentials[1], ip)
        except AuthenticationFailed as failure:
            if credentials is None:
                # A bare request (a browser, a probe) is never counted nor recorded: recording it would let anyone
                # grow the append-only trail without bound.
                return Unauthenticated(None)
            parts.login_guard.record_failure(ip, failure.username, LoginKind.TOKEN)
            return Unauthenticated(partial(self._record_failure, failure, ip, target.label))

    def _authorised(self, target: Target, principal: Principal, limit: RateDecision | None) -> Admitted | Refused:
        if not _names_the_caller(target, principal):
            return Refused(f"This token belongs to “{principal.account.username}”, not “{target.user}”.", limit)
        try:
            function = self.registry.find(target.module, target.function, target.api)
        except UnknownFunction as error:
            return Refused(str(error), limit)
        try:
            authorise(principal, function)
        except PermissionDenied as denied:
            self._record_denial(principal, function, denied)
            return Refused(denied.message, limit, denied)
        return Admitted(principal, function, limit)

    def admit_from_memory(self, target: Target, credentials: Credentials | None, ip: str | None) -> Admitted | None:
        """The common case without a thread hop or any I/O: a token verified recently (still current in the cache),
        no block known for the address, a per-process rate count, a function it may call. Anything else (a cache
        miss, a refusal to answer, a denial to record, counters in Redis) returns None: `admit` then decides, and
        records what must be recorded. Runs on the event loop, so it must never wait."""
        if credentials is None:
            return None
        parts = self._parts
        user, token = credentials
        try:
            parts.login_guard.clear_in_memory(ip, user, LoginKind.TOKEN)
            principal = parts.authenticator.authenticate(self._from_memory, user, token, ip)
            if not _names_the_caller(target, principal):
                return None
            function = self.registry.find(target.module, target.function, target.api)
            authorise(principal, function)
            limit = self._rate_limit(principal, in_memory_only=True)
        except (WouldBlock, AuthenticationFailed, UnknownFunction, PermissionDenied):
            return None
        if limit is not None and not limit.allowed:
            return None  # counted again by `admit`, which refuses it; only ever past the limit
        parts.usage.note(principal)
        return Admitted(principal, function, limit)

    def call(self, admitted: Admitted, args: Args, options: ListOptions, uploads: list[Upload] | None = None) -> Answer:
        """Run the function: in one transaction (committed once, at the end) unless it declared it uses none. A
        restriction the module enforces itself (paths in the jail, mail domains) is recorded like any denial."""
        function, principal = admitted.function, admitted.principal
        factory = self._parts.services
        call: Call | None = None
        try:
            if function.uses_database:
                with self._parts.begin(function.writes) as uow:
                    call = Call(principal, args, options, Services(factory, uow, lambda: principal), uploads or [])
                    data = function.handler(call)
                    uow.commit()
            else:
                services = Services(factory, cast(UnitOfWork, NoDatabase()), lambda: principal)
                call = Call(principal, args, options, services, uploads or [])
                data = function.handler(call)
        except PermissionDenied as denied:
            self._record_denial(principal, function, denied)
            return Answer(error=denied, function=function)
        except HostpanelError as error:
            return Answer(error=error, function=function)
        return Answer(data, None, call.messages, call.warnings, call.metadata, function)

    def _rate_limit(self, principal: Principal, in_memory_only: bool = False) -> RateDecision | None:
        token = principal.token
        if token is None:
            return None
        limit = token.rate_limit if token.rate_limit is not None else self._parts.default_rate_limit
        return self._parts.rate_limiter.hit(f"token:{token.id}", limit, in_memory_only)

    def _record_denial(self, principal: Principal, function: Function, denied: PermissionDenied) -> None:
        action = AuditAction.ACCOUNT_PERMISSION_DENIED
        details: dict[str, DetailValue] = {"missing": denied.missing}
        if isinstance(denied, RestrictionDenied):
            action = AuditAction.ACCOUNT_RESTRICTION_DENIED
            details = {"restriction": denied.restriction, "detail": denied.detail}
        target = f"{function.module}::{function.name}"
        with self._parts.audit.log() as trail:
            trail.record_by(principal, action, target=target, outcome=Outcome.DENIED, details=details)

    def _record_failure(self, failure: AuthenticationFailed, ip: str | None, target: str) -> None:
        """Runs after the refusal was sent, so looking up the named account costs the caller nothing."""
        try:
            with self._parts.begin(False) as uow:
                account = uow.accounts.get_by_username(failure.username) if failure.username else None
            with self._parts.audit.log() as trail:
                trail.record(
                    AuditAction.ACCOUNT_AUTH_FAILURE,
                    actor="token",
                    account_id=account.id if account else None,
                    username=failure.username,
                    ip=ip,
                    target=target,
                    outcome=Outcome.FAILURE,
                    details=_failure_details(failure),
                )
                if (misused := failure.misused) is not None:
                    trail.record(
                        AuditAction.ACCOUNT_AUTH_FAILURE,
                        actor=token_actor(misused.token_name),
                        account_id=misused.account_id,
                        username=misused.username,
                        ip=ip,
                        target=target,
                        outcome=Outcome.FAILURE,
                        details={
                            "reason": "the token was presented under another username",
                            "presented_username": failure.username,
                        },
                    )
        except Exception:
            log.exception("could not record an authentication failure")


def authorise(principal: Principal, function: Function) -> None:
    """The one rule, on both admission paths: raises PermissionDenied unless the caller may call the function."""
    check_access(
        principal.permissions,
        principal.account.disabled_features,
        function.scope,
        function.feature,
        principal.restrictions,
    )


def _names_the_caller(target: Target, principal: Principal) -> bool:
    return target.user is None or target.user == principal.account.username


def _failure_details(failure: AuthenticationFailed) -> dict[str, DetailValue]:
    details: dict[str, DetailValue] = {"reason": failure.reason}
    if failure.restriction:
        details["restriction"] = failure.restriction
    return details
