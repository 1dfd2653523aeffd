"""Issuing, reviewing, renaming and revoking an account's API tokens."""

from __future__ import annotations

from collections.abc import Callable

from hostpanel.domain.accounts.model import Service
from hostpanel.domain.audit.model import DetailValue
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import (
    AccountSuspended,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RestrictionDenied,
)
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.keyring import Keyring
from hostpanel.domain.tokens.model import (
    MAX_EPOCH,
    MAX_GRACE_PERIOD,
    MAX_USES,
    ApiToken,
    IssuedToken,
    PreviousSecret,
    TokenQuery,
    validate_name,
)
from hostpanel.domain.tokens.restrictions import NO_RESTRICTIONS, EmailDomains, IpAllowlist, Restrictions
from hostpanel.domain.tokens.usage import TokenUsage, read_usage
from hostpanel.domain.whm.acls import ALL, Privileges, parse_acls

MAX_RATE_LIMIT = 1_000_000
KEEP: object = object()  # `update`: leave this attribute as it is


class TokenService:
    """Issues, lists, renames and revokes an account's API tokens, never granting more than the issuer has."""

    def __init__(
        self, uow: UnitOfWork, keyring: Keyring, clock: Clock, audit: AuditLog, default_rate_limit: int = 0
    ) -> None:
        """`default_rate_limit`: what a token without its own limit may make per rate window (0: unlimited)."""
        self._default_rate_limit = default_rate_limit
        self._uow = uow
        self._keyring = keyring
        self._clock = clock
        self._audit = audit

    def create(
        self,
        principal: Principal,
        name: str,
        expires_at: int | None,
        permissions: Permissions,
        restrictions: Restrictions = NO_RESTRICTIONS,
        *,
        rate_limit: int | None = None,
        acls: frozenset[str] | None = None,
        max_uses: int | None = None,
    ) -> IssuedToken:
        """Create a token; the returned secret exists nowhere else and can never be produced again.

        The token is of the principal's interface: a cPanel token for an account, a WHM token for root or a
        reseller (with `acls`, None: all of the owner's). `rate_limit`: requests per rate window (None: the server's
        default; 0: unlimited). `max_uses`: requests it may make in all (None: no limit)."""
        account = principal.account
        service = principal.service
        if not account.is_active:
            raise AccountSuspended(f"The account “{account.username}” is suspended, so it cannot create API tokens.")
        validate_name(name)
        if service == Service.WHM:
            acls = _check_acls(principal, acls)
        else:
            _check_no_escalation(principal, permissions)
        _check_no_longer_life(principal, expires_at)
        _check_no_faster_rate(principal, rate_limit, self._default_rate_limit)
        _check_no_more_uses(principal, max_uses)
        _check_restrictions(principal, restrictions, lambda: self._uow.accounts.domains(account.id))
        now = int(self._clock.now())
        if expires_at is not None and expires_at <= now:
            raise InvalidInput("expires_at", f"The “{expires_at}” value must be a future date.")
        if expires_at is not None and expires_at > MAX_EPOCH:
            raise InvalidInput("expires_at", f"“{expires_at}” is not a valid UNIX epoch timestamp.")
        if rate_limit is not None and not 0 <= rate_limit <= MAX_RATE_LIMIT:
            raise InvalidInput("rate_limit", f"The rate limit must be a whole number from 0 to {MAX_RATE_LIMIT}.")
        if max_uses is not None and not 1 <= max_uses <= MAX_USES:
            raise InvalidInput("max_uses", f"The use limit must be a whole number from 1 to {MAX_USES}.")
        if self._uow.tokens.get_by_name(account.id, name, service) is not None:
            raise Conflict(f"A conflicting API token with the name “{name}” already exists.")
        text = secret.generate()
        parsed = secret.parse(text)
        assert parsed is not None  # generate() always produces a well-formed token
        token = self._uow.tokens.add(
            account_id=account.id,
            name=name,
            key=parsed.key,
            digest=secret.digest(self._keyring.current, text),
            pepper_id=self._keyring.current_id,
            permissions=permissions,
            created_at=now,
            expires_at=expires_at,
            rate_limit=rate_limit,
            restrictions=restrictions,
            service=service,
            acls=acls,
            max_uses=max_uses,
        )
        whm: dict[str, DetailValue] = {"service": service.value}
        if acls is not None:
            whm["acls"] = sorted(acls)
        self._audit.record_by(
            principal,
            AuditAction.ACCOUNT_TOKEN_CREATE,
            target=name,
            details={
                **(whm if service == Service.WHM else {}),
                "full_access": permissions.full_access,
                "scopes": permissions.scope_names(),
                "expires_at": expires_at,
                **({"rate_limit": rate_limit} if rate_limit is not None else {}),
                **({"max_uses": max_uses} if max_uses is not None else {}),
                "restrictions": restrictions.describe(),
            },
        )
        return IssuedToken(token=token, secret=text)

    def get(self, account_id: int, name: str, service: Service = Service.CPANEL) -> ApiToken:
        token = self._uow.tokens.get_by_name(account_id, name, service)
        if token is None:
            raise NotFound(f"The API token “{name}” does not exist.")
        return token

    def page(self, account_id: int, query: TokenQuery) -> tuple[list[ApiToken], int]:
        return self._uow.tokens.page(account_id, query)

    def page_after(
        self, account_id: int, after: str | None, limit: int, service: Service = Service.CPANEL
    ) -> list[ApiToken]:
        """Keyset pages in name order: pass the last name of a page to get the next one."""
        return self._uow.tokens.page_after(account_id, after, limit, service)

    def usage(self, tokens: list[ApiToken]) -> dict[int, TokenUsage]:
        """The recent history of these tokens, by token id: calls per day and module, the last addresses."""
        return read_usage(self._uow, [token.id for token in tokens], self._clock.now())

    def rename(self, principal: Principal, name: str, new_name: str) -> None:
        """cPanel's order of checks: same name, unknown token, both names valid, new name free."""
        if name == new_name:
            raise InvalidInput("new_name", "“new_name” must be a different value from “name”.")
        token = self.get(principal.account.id, name, principal.service)
        validate_name(name)
        validate_name(new_name, field="new_name")
        if self._uow.tokens.get_by_name(principal.account.id, new_name, principal.service) is not None:
            raise Conflict(f"An API token with the name “{new_name}” already exists.")
        self._uow.tokens.rename(token.id, new_name)
        self._audit.record_by(principal, AuditAction.ACCOUNT_TOKEN_RENAME, target=new_name, details={"old_name": name})

    def update(
        self,
        principal: Principal,
        name: str,
        *,
        expires_at: int | object | None = None,
        whitelist: list[str] | None = None,
        acls: frozenset[str] | object | None = None,
    ) -> ApiToken:
        """WHM's api_token_update: a new expiry (None: never), IP allowlist (empty: any address) or ACL list, each
        only when given (`KEEP` leaves it), never beyond what the caller holds. Renaming is `rename`."""
        token = self.get(principal.account.id, name, principal.service)
        new_expiry = token.expires_at if expires_at is KEEP else expires_at
        assert new_expiry is None or isinstance(new_expiry, int)
        _check_no_longer_life(principal, new_expiry)
        if new_expiry is not None and new_expiry <= self._clock.now():
            raise InvalidInput("expires_at", f"The “{new_expiry}” value must be a future date.")
        restrictions = token.restrictions
        if whitelist is not None:
            allowlist = IpAllowlist.parse(whitelist) if whitelist else None
            restrictions = restrictions.replaced(IpAllowlist, allowlist)
            _check_restrictions(principal, restrictions, lambda: [])
        new_acls = token.acls if acls is KEEP else acls
        assert new_acls is None or isinstance(new_acls, frozenset)
        if principal.service == Service.WHM and acls is not KEEP:
            new_acls = _check_acls(principal, new_acls)
        self._uow.tokens.update(token.id, expires_at=new_expiry, restrictions=restrictions, acls=new_acls)
        details: dict[str, DetailValue] = {"expires_at": new_expiry, "restrictions": restrictions.describe()}
        if new_acls is not None:
            details["acls"] = sorted(new_acls)
        self._audit.record_by(principal, AuditAction.ACCOUNT_TOKEN_UPDATE, target=name, details=details)
        return self.get(principal.account.id, name, principal.service)

    def rotate(self, principal: Principal, name: str, grace_period: int) -> IssuedToken:
        """A new secret for the same token (name, permissions, restrictions, expiry and use count kept), returned
        once; the current secret keeps working for `grace_period` seconds (0: refused at once), and an older one
        still in its grace period is refused at once. A caller holding only the old secret cannot rotate: that would
        let a leaked old secret mint a fresh one."""
        if not 0 <= grace_period <= MAX_GRACE_PERIOD:
            raise InvalidInput("grace_period", f"The grace period must be from 0 to {MAX_GRACE_PERIOD} seconds.")
        token = self.get(principal.account.id, name, principal.service)
        if principal.old_secret:
            raise PermissionDenied(
                "A rotated-out secret cannot manage tokens; use the token's current secret.", missing="current secret"
            )
        now = int(self._clock.now())
        text = secret.generate_with_key(token.key)
        previous = PreviousSecret(token.digest, token.pepper_id, now + grace_period) if grace_period else None
        self._uow.tokens.rotate(
            token.id,
            digest=secret.digest(self._keyring.current, text),
            pepper_id=self._keyring.current_id,
            previous=previous,
            at=now,
        )
        self._audit.record_by(
            principal,
            AuditAction.ACCOUNT_TOKEN_ROTATE,
            target=name,
            details={
                "grace_period": grace_period,
                "old_secret_valid_until": previous.valid_until if previous else None,
                "older_overlap_ended": token.previous_valid(now) is not None,
            },
        )
        return IssuedToken(token=self.get(principal.account.id, name, principal.service), secret=text)

    def details(self, principal: Principal, presented: str) -> ApiToken | None:
        """The caller's own live token whose secret this is (WHM's api_token_get_details), else None; the
        allowlist is not applied, as in cPanel."""
        parsed = secret.parse(presented.strip())
        found = self._uow.tokens.find_by_key(parsed.key) if parsed is not None else None
        if parsed is None or found is None:
            return None
        token, account = found
        if (
            account.id != principal.account.id
            or token.service != principal.service
            or token.is_expired(self._clock.now())
            or not self._keyring.verifies(parsed.text, token.pepper_id, token.digest)
        ):
            return None
        return token

    def revoke(self, principal: Principal, name: str) -> bool:
        """Delete the token; False (and nothing recorded) when there was no such token, as cPanel answers 0."""
        token = self._uow.tokens.get_by_name(principal.account.id, name, principal.service)
        if token is None or not self._uow.tokens.delete(token.id):
            return False
        self._audit.record_by(principal, AuditAction.ACCOUNT_TOKEN_REVOKE, target=name)
        return True

    def revoke_all(self, principal: Principal) -> int:
        """Revoke every token of the account (e.g. with a password change); one audit event per token."""
        return self._revoke_each(principal, self._uow.tokens.delete_all(principal.account.id, principal.service))

    def revoke_expired(self, principal: Principal) -> int:
        """Delete the account's expired tokens, which cPanel keeps listed until someone removes them."""
        names = self._uow.tokens.delete_expired(principal.account.id, int(self._clock.now()), principal.service)
        return self._revoke_each(principal, names, {"expired": True})

    def _revoke_each(
        self, principal: Principal, names: list[str], details: dict[str, DetailValue] | None = None
    ) -> int:
        for name in names:
            self._audit.record_by(principal, AuditAction.ACCOUNT_TOKEN_REVOKE, target=name, details=details)
        return len(names)


def _check_no_escalation(principal: Principal, wanted: Permissions) -> None:
    held = principal.permissions
    if held is None or held.covers(wanted):
        return
    missing = (
        "full access"
        if wanted.full_access
        else next(str(scope) for scope in sorted(wanted.scopes) if not held.allows(scope))
    )
    raise PermissionDenied(
        f"An API token can only create tokens with permissions it holds itself; it lacks “{missing}”.",
        missing=missing,
    )


def _check_acls(principal: Principal, wanted: frozenset[str] | None) -> frozenset[str] | None:
    """A WHM token's ACLs: cPanel's names, each held by the caller, and never more than the caller holds (no list
    means all of the owner's, which a limited caller cannot give). Returns the list to store."""
    held = principal.privileges
    assert held is not None, "a WHM token is made by a WHM principal"
    if wanted is not None:
        wanted = parse_acls(wanted)
        for acl in sorted(wanted):
            if not held.has(acl) or (acl == ALL and not held.is_root):
                raise PermissionDenied(f"Invalid or unauthorized ACL specified: {acl}", missing=acl)
    owner = Privileges(principal.account.acls or frozenset())
    if not held.covers(owner.narrowed(wanted)):
        raise PermissionDenied(
            "A limited API token can only create tokens with ACLs it holds itself: list them in “acl”.",
            missing="acl",
        )
    return wanted


def _check_no_longer_life(principal: Principal, expires_at: int | None) -> None:
    """An expiring token may only create tokens that expire no later: else a leaked short-lived token could make
    itself permanent."""
    parent = principal.token
    if parent is None or parent.expires_at is None:
        return
    if expires_at is None or expires_at > parent.expires_at:
        raise PermissionDenied(
            f"This API token expires at {parent.expires_at}, so it can only create tokens that expire no later than "
            "itself.",
            missing="expires_at",
        )


def _check_no_faster_rate(principal: Principal, rate_limit: int | None, default: int) -> None:
    """A rate-limited token may only create tokens limited at least as tightly: else a leaked token could make itself
    an unlimited twin. A limit of None is the server's default; 0 is unlimited."""
    parent = principal.token
    held = _requests_allowed(parent.rate_limit, default) if parent is not None else None
    if held is None:
        return
    wanted = _requests_allowed(rate_limit, default)
    if wanted is None or wanted > held:
        raise PermissionDenied(
            f"This API token may make {held} requests per rate window, so it can only create tokens limited to "
            f"{held} requests or fewer.",
            missing="rate_limit",
        )


def _check_no_more_uses(principal: Principal, max_uses: int | None) -> None:
    """A use-limited token may only create tokens with no more uses than it has left: else it could outlive its own
    limit through an unlimited twin."""
    parent = principal.token
    if parent is None or parent.max_uses is None:
        return
    left = max(parent.max_uses - parent.uses, 0)
    if max_uses is None or max_uses > left:
        raise PermissionDenied(
            f"This API token has {left} uses left, so it can only create tokens limited to {left} uses or fewer.",
            missing="max_uses",
        )


def _requests_allowed(rate_limit: int | None, default: int) -> int | None:
    """Requests per window a token may make; None when unlimited."""
    limit = default if rate_limit is None else rate_limit
    return limit or None


def _check_restrictions(principal: Principal, wanted: Restrictions, account_domains: Callable[[], list[str]]) -> None:
    """A token mints only tokens at least as restricted as itself; mail domains must be the account's own."""
    loosened = principal.restrictions.uncovered(wanted)
    if loosened is not None:
        raise RestrictionDenied(
            "An API token can only create tokens at least as restricted as itself: the new token must keep the "
            f"restriction “{loosened.key}” ({loosened.describe()}) or a narrower one.",
            loosened.key,
            detail=loosened.describe(),
        )
    domains = wanted.get(EmailDomains)
    owned = account_domains() if domains else []  # read only for a token limited to mail domains
    for domain in domains.domains if domains else ():
        if domain not in owned:
            raise InvalidInput("email_domain", f"The domain “{domain}” does not belong to this account.")
