"""Brute-force protection in cPHulk's manner: failed logins counted per source address and per account.
An IPv6 source counts as its /64, all of which one host can send from.

Past a tier's threshold of failures within its window, the address (or account) is refused for the tier's lockout;
each further lockout of the same key within a day lasts `growth` times longer, up to `max_lockout`. Password logins
count against the address and the account; token failures count against the address only, under their own tier,
since a 160-bit token cannot be guessed: bad tokens sent in a user's name never lock that user out elsewhere.
Trusted networks are never counted nor refused. The refusal is the same whether or not the account exists.

Interfaces call `check()` before verifying credentials and `record_failure()` after a failed verification.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Protocol

from hostpanel.domain.addresses import parse_ip
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import InvalidInput, WouldBlock
from hostpanel.domain.ports import UnitOfWork

DAY = 86400.0
MAX_SUBJECT = 100  # counter keys stay bounded whatever a caller sends as a username


class LoginKind(StrEnum):
    """What a login attempt presented: a password, or an API token."""

    PASSWORD = "password"
    TOKEN = "token"


class KeyKind(StrEnum):
    """What a counter counts: password failures per address, per account, and token failures per address."""

    IP = "ip"
    ACCOUNT = "account"
    TOKEN_IP = "token-ip"


@dataclass(frozen=True)
class Tier:
    """A threshold: `failures` within `window` seconds block the key for `lockout` seconds."""

    failures: int
    window: float
    lockout: float


@dataclass(frozen=True)
class LockoutPolicy:
    """cPHulk's defaults for passwords; 20 token failures in 10 minutes for scanners."""

    ip: tuple[Tier, ...] = (Tier(5, 900, 900), Tier(30, DAY, DAY))
    account: tuple[Tier, ...] = (Tier(15, 300, 300),)
    token_ip: tuple[Tier, ...] = (Tier(20, 600, 600),)
    growth: float = 2.0
    max_lockout: float = DAY

    @cached_property
    def windows(self) -> dict[KeyKind, float]:
        """By kind of key, the age past which a failure counts towards no block."""
        return {kind: max((tier.window for tier in self.tiers(kind)), default=0.0) for kind in KeyKind}

    def tiers(self, kind: KeyKind) -> tuple[Tier, ...]:
        found = {KeyKind.IP: self.ip, KeyKind.ACCOUNT: self.account, KeyKind.TOKEN_IP: self.token_ip}[kind]
        return tuple(tier for tier in found if tier.failures > 0)


@dataclass(frozen=True)
class Block:
    """A key refused until `until`, with how many lockouts it has had (each lasts longer)."""

    key: str
    until: float
    lockouts: int
    blocked_at: float

    @property
    def kind(self) -> KeyKind:
        return KeyKind(self.key.partition(":")[0])

    @property
    def subject(self) -> str:
        return self.key.partition(":")[2]


@dataclass(frozen=True)
class Refusal:
    """The caller must wait `retry_after` seconds; says nothing about whether the account exists."""

    retry_after: int
    message: str = "Too many failed login attempts. Try again later."


class FailureStore(Protocol):
    """Failure counters and blocks, shared by every process (the database, or Redis)."""

    def blocked_until(self, keys: Sequence[str], now: float) -> float | None:
        """The latest end among the keys' blocks still in force at `now`, or None."""
        ...

    def blocked_until_in_memory(self, keys: Sequence[str], now: float) -> float | None:
        """The same answer from what this process holds; raises WouldBlock when it would have to read the store."""
        ...

    def add_failure(self, key: str, at: float, horizon: float) -> list[float]:
        """Record a failure; return the key's failure times since `at - horizon` (older ones may be dropped)."""
        ...

    def get_block(self, key: str) -> Block | None: ...

    def put_block(self, block: Block) -> None: ...

    def blocks(self, now: float) -> list[Block]:
        """Blocks in force at `now`, soonest end first."""
        ...

    def clear(self, key: str) -> bool:
        """Forget the key's block and failures; True if a block was in force or failures were counted."""
        ...


class TrustedNetworks(Protocol):
    """The networks whose logins are never counted nor blocked, with a note on each."""

    def all(self) -> list[tuple[str, str]]:
        """(network in CIDR form, note) pairs."""
        ...

    def add(self, network: str, note: str, at: int) -> bool:
        """False when it was already there."""
        ...

    def remove(self, network: str) -> bool: ...


def parse_network(text: str) -> str:
    """An address or CIDR range in canonical form (`10.0.0.0/8`, `2001:db8::/32`), or InvalidInput."""
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        raise InvalidInput("network", f"“{text}” is not an IP address or a CIDR range.") from None


IPV6_SOURCE_PREFIX = 64  # what one IPv6 host or site is given (RFC 6177): it can send from any address in it


@lru_cache(maxsize=8192)  # asked on every request; parsing an address costs more than the rest of the check
def address_subject(ip: str) -> str:
    """What failures from an address are counted under: an IPv4 address, or the /64 of an IPv6 one (written
    canonically; an IPv4-mapped address is its IPv4 address). Counted address by address, one IPv6 host could
    send each attempt from a fresh address of its /64 and never reach a threshold."""
    address = parse_ip(ip)
    if address is None:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(address), IPV6_SOURCE_PREFIX), strict=False))
    return str(address)


def _source_of(text: str) -> str | None:
    """The counted subject of an address or of a network written as `security blocked` shows it; None otherwise."""
    if parse_ip(text) is not None:
        return address_subject(text)
    try:
        return address_subject(str(ipaddress.ip_network(text, strict=False).network_address))
    except ValueError:
        return None


def counter_key(kind: KeyKind, subject: str) -> str:
    return f"{kind}:{subject[:MAX_SUBJECT]}"


class LoginGuard:
    """Counts failed logins and refuses blocked sources, and lets the administrator lift blocks and trust networks."""

    def __init__(
        self,
        store: FailureStore,
        trusted: TrustedNetworks,
        policy: LockoutPolicy,
        clock: Clock,
        uow_factory: Callable[[], UnitOfWork],
    ) -> None:
        self._store = store
        self._trusted = trusted
        self._policy = policy
        self._clock = clock
        self._uow_factory = uow_factory

    def check(self, ip: str | None, username: str | None, kind: LoginKind) -> Refusal | None:
        """Before verifying credentials: a refusal if the address (or, for passwords, the account) is blocked.

        One read of the store; the trusted networks are read only when a block is found."""
        now = self._clock.now()
        until = self._store.blocked_until(self._checked_keys(ip, username, kind), now)
        if until is None or self._is_trusted(ip):
            return None
        return Refusal(retry_after=max(1, math.ceil(until - now)))

    def clear_in_memory(self, ip: str | None, username: str | None, kind: LoginKind) -> None:
        """Return if nothing blocks the caller, known without I/O; else raise WouldBlock (a block in force needs the
        trusted networks read, and a refusal is answered by `check` on the slow path)."""
        if self._store.blocked_until_in_memory(self._checked_keys(ip, username, kind), self._clock.now()) is not None:
            raise WouldBlock

    def record_failure(self, ip: str | None, username: str | None, kind: LoginKind) -> Refusal | None:
        """After a failed verification: count it; a refusal if this failure started a block."""
        if self._is_trusted(ip):
            return None
        now = self._clock.now()
        started: list[Block] = []
        for key_kind, subject in self._counted(ip, username, kind):
            key = counter_key(key_kind, subject)
            tiers = self._policy.tiers(key_kind)
            if not tiers:
                continue
            times = self._store.add_failure(key, now, self._policy.windows[key_kind])
            reached = [tier for tier in tiers if sum(1 for at in times if at > now - tier.window) >= tier.failures]
            if reached:
                started.append(self._block(key, max(tier.lockout for tier in reached), now))
        if not started:
            return None
        self._audit_blocks(started, username, ip)
        return Refusal(retry_after=max(1, math.ceil(max(block.until for block in started) - now)))

    def blocks(self) -> list[Block]:
        return self._store.blocks(self._clock.now())

    def unblock(self, subject: str) -> list[str]:
        """Lift the blocks and counters of an address (`1.2.3.4`, any address of a blocked IPv6 /64, or the /64 as
        `security blocked` shows it) or an account (`alice`); the keys cleared."""
        subject = subject.strip()
        source = _source_of(subject)
        kinds = (KeyKind.IP, KeyKind.TOKEN_IP) if source else (KeyKind.ACCOUNT,)
        subject = source or subject
        cleared = [key for key in (counter_key(kind, subject) for kind in kinds) if self._store.clear(key)]
        if cleared:
            with self._uow_factory() as uow:
                account = uow.accounts.get_by_username(subject) if not source else None
                AuditLog(uow.audit, self._clock).record(
                    AuditAction.ADMIN_SECURITY_UNBLOCK,
                    actor="admin",
                    account_id=account.id if account else None,
                    username=account.username if account else None,
                    target=subject,
                    details={"keys": cleared},
                )
                uow.commit()
        return cleared

    def trusted(self) -> list[tuple[str, str]]:
        return self._trusted.all()

    def trust(self, network: str, note: str = "") -> str:
        canonical = parse_network(network)
        if self._trusted.add(canonical, note[:200], int(self._clock.now())):
            self._audit_admin(AuditAction.ADMIN_SECURITY_TRUST, canonical, {"note": note[:200]})
        return canonical

    def distrust(self, network: str) -> bool:
        canonical = parse_network(network)
        removed = self._trusted.remove(canonical)
        if removed:
            self._audit_admin(AuditAction.ADMIN_SECURITY_DISTRUST, canonical, {})
        return removed

    def _is_trusted(self, ip: str | None) -> bool:
        address = parse_ip(ip)
        if address is None:
            return False
        return any(address in ipaddress.ip_network(network) for network, _ in self._trusted.all())

    def _block(self, key: str, lockout: float, now: float) -> Block:
        previous = self._store.get_block(key)
        recent = previous is not None and previous.blocked_at > now - self._policy.max_lockout
        lockouts = previous.lockouts + 1 if recent and previous is not None else 1
        duration = min(lockout * self._policy.growth ** (lockouts - 1), max(lockout, self._policy.max_lockout))
        block = Block(key=key, until=now + duration, lockouts=lockouts, blocked_at=now)
        self._store.put_block(block)
        return block

    def _audit_blocks(self, blocks: list[Block], username: str | None, ip: str | None) -> None:
        with self._uow_factory() as uow:
            audit = AuditLog(uow.audit, self._clock)
            for block in blocks:
                account = uow.accounts.get_by_username(block.subject) if block.kind == KeyKind.ACCOUNT else None
                audit.record(
                    AuditAction.ACCOUNT_AUTH_LOCKOUT,
                    actor="system",
                    account_id=account.id if account else None,
                    username=username,
                    ip=ip,
                    target=block.key,
                    outcome=Outcome.DENIED,
                    details={"until": int(block.until), "lockouts": block.lockouts},
                )
            uow.commit()

    def _audit_admin(self, action: AuditAction, target: str, details: dict[str, str]) -> None:
        with self._uow_factory() as uow:
            AuditLog(uow.audit, self._clock).record(action, actor="admin", target=target, details=dict(details))
            uow.commit()

    @staticmethod
    def _checked_keys(ip: str | None, username: str | None, kind: LoginKind) -> list[str]:
        source = address_subject(ip) if ip else None
        keys = [counter_key(KeyKind.IP, source), counter_key(KeyKind.TOKEN_IP, source)] if source else []
        if kind == LoginKind.PASSWORD and username:
            keys.append(counter_key(KeyKind.ACCOUNT, username))
        return keys

    @staticmethod
    def _counted(ip: str | None, username: str | None, kind: LoginKind) -> list[tuple[KeyKind, str]]:
        source = address_subject(ip) if ip else None
        if kind == LoginKind.TOKEN:
            return [(KeyKind.TOKEN_IP, source)] if source else []
        counted = [(KeyKind.IP, source)] if source else []
        return counted + ([(KeyKind.ACCOUNT, username)] if username else [])
