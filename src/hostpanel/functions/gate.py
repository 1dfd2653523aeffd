"""The one way into a function, for every dialect: lockout, authentication, rate limit, lookup, authorisation,
audit, and the call in one transaction.

A dialect (UAPI, API 2, WHM API 1) only translates: it reads its request into credentials, a function's names and
arguments, asks the gate, and writes the gate's answer in its own envelope. Nothing here knows HTTP.

Order matters: a locked-out address is refused before anything is checked; then authentication (an unknown module
gets the authentication failure when there are no credentials, as cPanel answers), the token's rate limit, the
function lookup, and the one authorisation rule (`authorise`: for a UAPI function scope ∩ account features ∩ token
restrictions, for a WHM function the caller's ACLs as its token narrows them). Every refusal of presented
credentials and every denial is written to the audit trail.

Each interface has a gate of its own, made of the same parts but its own authenticator: the account API's knows only
cPanel tokens of hosting accounts, WHM's only WHM tokens of root and resellers (and, where the dialect reads HTTP
Basic, their passwords, under the same lockout as every sign-in).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, cast

from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.audit.model import DetailValue, token_actor
from hostpanel.domain.audit.service import AuditWriter
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.errors import (
    AuthenticationFailed,
    HostpanelError,
    InvalidInput,
    PermissionDenied,
    RestrictionDenied,
    WouldBlock,
)
from hostpanel.domain.files.service import Upload
from hostpanel.domain.permissions import check_access
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.security.lockout import LoginGuard, LoginKind
from hostpanel.domain.security.ratelimit import RateDecision, RateLimiter
from hostpanel.domain.tokens.authenticate import TokenAuthenticator
from hostpanel.domain.tokens.cache import Found, TokenCache
from hostpanel.domain.tokens.usage import UsageRecorder
from hostpanel.domain.whm.acls import require
from hostpanel.functions.args import Args
from hostpanel.functions.call import Call, NoDatabase
from hostpanel.functions.listing import ListOptions
from hostpanel.functions.registry import API2, UAPI, WHM1, Function, Registry, UnknownFunction
from hostpanel.services import ServiceFactory, Services

log = logging.getLogger(__name__)

Credentials = tuple[str, str]  # (username, token) as the caller presented them
RATE_LIMITED = "This API token has exceeded its request rate limit."


@dataclass(frozen=True)
class Password:
    """A user name and password presented with the request (HTTP Basic), and the two-factor code if any."""

    username: str
    password: str = field(repr=False)
    code: str = field(default="", repr=False)


Presented = Credentials | Password


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
    service: Service = Service.CPANEL  # the interface this gate admits to
    passwords: bool = False  # whether a password (HTTP Basic) may stand for a token here
    # Whether a read may wait (on a lock, on the network): not on a local SQLite file in WAL mode, where a reader
    # never waits for a writer; then quick reads run on the event loop.
    reads_wait: bool = True


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

    def admit(self, target: Target, credentials: Presented | None, ip: str | None) -> Admitted | Refusal:
        """Who calls what, or why not. May read the database and Redis: call it from a worker thread."""
        kind = LoginKind.PASSWORD if isinstance(credentials, Password) else LoginKind.TOKEN
        refusal = self._parts.login_guard.check(ip, _username(credentials), kind)
        if refusal is not None:
            return Blocked(refusal.message, refusal.retry_after)
        principal = self._authenticate(target, credentials, ip)
        if isinstance(principal, Unauthenticated):
            return principal
        self._parts.usage.note(principal, self._module_label(target))
        limit = self._rate_limit(principal)
        if limit is not None and not limit.allowed:
            return RateLimited(RATE_LIMITED, limit)
        return self._authorised(target, principal, limit)

    def _authenticate(
        self, target: Target, credentials: Presented | None, ip: str | None
    ) -> Principal | Unauthenticated:
        parts = self._parts
        if isinstance(credentials, Password):
            return self._password(credentials, ip)
        try:
            if credentials is None:
                raise AuthenticationFailed("missing or malformed Authorization header")
            principal = parts.authenticator.authenticate(parts.tokens, credentials[0], credentials[1], ip)
            return self._count_use(principal)
        except AuthenticationFailed as failure:
            if credentials is None:
                # A bare request (a browser, a probe) is never counted nor recorded: recording it would let anyone
                # grow the append-only trail without bound.
                return Unauthenticated(None)
            parts.login_guard.record_failure(ip, failure.username, LoginKind.TOKEN)
            return Unauthenticated(partial(self._record_failure, failure, ip, target.label))

    def _module_label(self, target: Target) -> str:
        """What usage history counts a call under: its module, or "" for a module that does not exist (so made-up
        names cannot grow the history)."""
        return target.module if self.registry.knows(target.module, target.api) else ""

    def _count_use(self, principal: Principal) -> Principal:
        """Spend one of a use-limited token's uses (exactly, across processes and nodes: one conditional UPDATE);
        an exhausted token fails like any other. A token without a limit costs nothing here."""
        token = principal.token
        if token is None or token.max_uses is None:
            return principal
        with self._parts.begin(True) as uow:
            uses = uow.tokens.consume_use(token.id)
            uow.commit()
        if uses is None:
            reason = f"token “{token.name}” used up ({token.max_uses} uses)"
            raise AuthenticationFailed(reason, principal.account.username)
        counted = replace(principal, token=replace(token, uses=uses))
        if uses == token.max_uses:
            with self._parts.audit.log() as trail:
                trail.record_by(
                    counted, AuditAction.ACCOUNT_TOKEN_EXHAUSTED, target=token.name, details={"max_uses": uses}
                )
        return counted

    def _password(self, credentials: Password, ip: str | None) -> Principal | Unauthenticated:
        """HTTP Basic: the password (and code, with two-factor on) of someone who may use this interface; a refusal
        is recorded by the sign-in check itself and counted like any failed sign-in."""
        parts = self._parts
        if not parts.passwords:
            return Unauthenticated(None)
        with parts.begin(True) as uow:
            try:
                principal = parts.services.login(uow).verify_password(
                    credentials.username, credentials.password, credentials.code, ip, parts.service
                )
            except AuthenticationFailed:
                uow.commit()  # keeps the refusal's audit record
                parts.login_guard.record_failure(ip, credentials.username, LoginKind.PASSWORD)
                return Unauthenticated(None)
            uow.commit()
        return principal

    def _authorised(self, target: Target, principal: Principal, limit: RateDecision | None) -> Admitted | Refused:
        if not _names_the_caller(target, principal):
            return Refused(f"This token belongs to “{principal.account.username}”, not “{target.user}”.", limit)
        try:
            function = self.registry.find(target.module, target.function, target.api)
        except UnknownFunction as error:
            return Refused(error.message, limit, error)
        try:
            authorise(principal, function)
        except PermissionDenied as denied:
            self._record_denial(principal, function, denied)
            return Refused(denied.message, limit, denied)
        return Admitted(principal, function, limit)

    def admit_local(self, target: Target, principal: Principal) -> Admitted | Refused:
        """A call made on the server itself (the CLI) as `principal`, who needs no credentials: the function's
        lookup and the authorisation rule alone, as for any caller."""
        return self._authorised(target, principal, None)

    def admit_from_memory(
        self, target: Target, credentials: Presented | None, ip: str | None
    ) -> Admitted | RateLimited | None:
        """The common case without a thread hop or any I/O: a token in the process's memory, no block known for the
        address, a per-process rate count, a function it may call; a token past its rate limit is refused here too
        (nothing is recorded for it). Anything else (a token not in memory, a refusal to record, a denial, counters
        in Redis) returns None: `admit` then decides, and records what must be recorded. Runs on the event loop, so
        it must never wait."""
        if credentials is None or isinstance(credentials, Password):
            return None  # a password is checked with argon2 and may write (two-factor steps): never on the loop
        parts = self._parts
        user, token = credentials
        try:
            parts.login_guard.clear_in_memory(ip, user, LoginKind.TOKEN)
            principal = parts.authenticator.authenticate(self._from_memory, user, token, ip)
            if principal.token is not None and principal.token.max_uses is not None:
                return None  # each use is counted in the database, by `admit`
            if not _names_the_caller(target, principal):
                return None
            function = self.registry.find(target.module, target.function, target.api)
            authorise(principal, function)
            limit = self._rate_limit(principal, in_memory_only=True)
        except (WouldBlock, AuthenticationFailed, UnknownFunction, PermissionDenied):
            return None
        parts.usage.note(principal, self._module_label(target))  # as `admit` does: every authenticated call
        if limit is not None and not limit.allowed:
            return RateLimited(RATE_LIMITED, limit)
        return Admitted(principal, function, limit)

    def runs_inline(self, function: Function) -> bool:
        """Whether a call admitted from memory runs on the event loop: it needs no database, or it is a quick read
        where reads never wait. Anything else goes to a worker thread."""
        return not function.uses_database or (function.quick_read and not self._parts.reads_wait)

    def call(self, admitted: Admitted, args: Args, options: ListOptions, uploads: list[Upload] | None = None) -> Answer:
        """Run the function: in one transaction (committed once, at the end) unless it declared it uses none. A
        restriction the module enforces itself (paths in the jail, mail domains) is recorded like any denial."""
        function, principal = admitted.function, admitted.principal
        factory = self._parts.services
        call: Call | None = None
        try:
            delegate, subcall = partial(self._delegate, principal), partial(self._subcall, admitted)
            if function.uses_database:
                with self._parts.begin(function.writes) as uow:
                    services = Services(factory, uow, lambda: principal)
                    call = Call(principal, args, options, services, uploads or [], delegate=delegate, subcall=subcall)
                    data = function.handler(call)
                    uow.commit()
            else:
                services = Services(factory, cast(UnitOfWork, NoDatabase()), lambda: principal)
                call = Call(principal, args, options, services, uploads or [], delegate=delegate, subcall=subcall)
                data = function.handler(call)
        except PermissionDenied as denied:
            self._record_denial(principal, function, denied)
            return Answer(error=denied, function=function)
        except HostpanelError as error:
            return Answer(error=error, function=function)
        return Answer(data, None, call.messages, call.warnings, call.metadata, function)

    def _delegate(
        self, caller: Principal, account: Account, module: str, name: str, args: Args, *, api: str = UAPI
    ) -> Answer:
        """A UAPI (or API 2) function called by a WHM caller as one of the accounts it reaches (uapi_cpanel, the
        `cpanel` proxy, WHM's DNS functions): found in that namespace only and authorised as for the account itself
        (its features apply), run through `call` in a transaction of its own, recorded on the account's trail in the
        caller's name."""
        if api not in (UAPI, API2):
            return Answer(error=UnknownFunction(f"This server offers no functions in the “{api}” API."))
        principal = Principal(
            account, AuthMethod.ADMIN, ip=caller.ip, service=Service.CPANEL, on_behalf_of=caller.account.username
        )
        decided = self._authorised(Target(module, name, api), principal, None)
        if isinstance(decided, Refused):
            return Answer(error=decided.error or UnknownFunction(decided.message))
        return self.call(decided, args, ListOptions())

    def _subcall(self, admitted: Admitted, name: str, args: Args) -> Answer:
        """Another function of the caller's namespace, for the same caller (WHM's batch): looked up and authorised
        like any call (a denial is recorded), run in a transaction of its own. A batch never nests."""
        target = Target(admitted.function.module, name, UAPI if admitted.function.acls is None else WHM1)
        decided = self._authorised(target, admitted.principal, admitted.limit)
        if isinstance(decided, Refused):
            return Answer(error=decided.error or UnknownFunction(decided.message))
        if decided.function.name == admitted.function.name:
            return Answer(error=InvalidInput("command", f"“{name}” cannot be called from within itself."))
        return self.call(decided, args, ListOptions())

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
        target = function.label
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
    """The one rule, on both admission paths: raises PermissionDenied unless the caller may call the function. A WHM
    function needs one of its ACLs held by a WHM caller; a UAPI function its scope and feature, within the token's
    restrictions."""
    if function.acls is not None:
        require(principal.privileges, function.acls)
        return
    assert function.scope is not None, "a UAPI function declares its scope"
    check_access(
        principal.permissions,
        principal.account.disabled_features,
        function.scope,
        function.feature,
        principal.restrictions,
    )


def _names_the_caller(target: Target, principal: Principal) -> bool:
    return target.user is None or target.user == principal.account.username


def _username(credentials: Presented | None) -> str | None:
    if credentials is None:
        return None
    return credentials.username if isinstance(credentials, Password) else credentials[0]


def _failure_details(failure: AuthenticationFailed) -> dict[str, DetailValue]:
    details: dict[str, DetailValue] = {"reason": failure.reason}
    if failure.restriction:
        details["restriction"] = failure.restriction
    return details
