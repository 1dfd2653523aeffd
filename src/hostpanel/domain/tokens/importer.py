"""Importing cPanel's token stores, so a customer's existing 32-character cPanel tokens keep working.

cPanel keeps `api_tokens_v2/<service>/<user>.json`: `{"tokens": {<SHA-512 hex of the token>: {name, create_time,
expires_at, whitelist_ips, has_full_access, features[, acls]}}}`. It never stores the token, so neither can we: each
entry becomes a token whose digest is our keyed digest of cPanel's digest, found by a keyed lookup value of it
(`secret.legacy_key`). The bare SHA-512 is never written anywhere.

An import is planned first (every entry either becomes a token or is skipped with its reason), then applied in the
caller's one transaction: a failure leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.audit.model import DetailValue
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import HostpanelError, InvalidInput
from hostpanel.domain.permissions import Access, Permissions, Scope, ScopeModule
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.keyring import Keyring
from hostpanel.domain.tokens.model import MAX_EPOCH, validate_name
from hostpanel.domain.tokens.restrictions import NO_RESTRICTIONS, Restrictions
from hostpanel.domain.whm.acls import parse_acls

# cPanel's feature names in a limited token, and the scope that gives the same functions here.
FEATURE_SCOPES: dict[str, ScopeModule] = {
    "apitokens": ScopeModule.TOKENS,
    "backup": ScopeModule.BACKUP,
    "changemx": ScopeModule.DNS,
    "filemanager": ScopeModule.FILEMAN,
    "forwarders": ScopeModule.EMAIL,
    "popaccts": ScopeModule.EMAIL,
    "simplezoneedit": ScopeModule.DNS,
    "twofactorauth": ScopeModule.TWOFACTORAUTH,
    "zoneedit": ScopeModule.DNS,
}


@dataclass(frozen=True)
class StoreFile:
    """One token store as read: where it came from, whose it is (its file name), which service, its text."""

    source: str
    username: str
    service: Service
    text: str


@dataclass(frozen=True)
class Planned:
    """An entry that will become a token."""

    source: str
    account: Account
    service: Service
    name: str
    digest_hex: str = field(repr=False)
    created_at: int
    expires_at: int | None
    permissions: Permissions
    restrictions: Restrictions
    acls: frozenset[str] | None


@dataclass(frozen=True)
class Skipped:
    """An entry (or a whole store, `name` None) left out, and why."""

    source: str
    username: str
    name: str | None
    reason: str


@dataclass
class ImportPlan:
    planned: list[Planned] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def store_service(path_parts: tuple[str, ...]) -> Service:
    """cPanel's directory names the service: `…/whostmgr/<user>.json` holds WHM tokens, anything else cPanel's."""
    return Service.WHM if "whostmgr" in path_parts[:-1] else Service.CPANEL


class TokenImport:
    """Plans and applies the import of cPanel token stores into the accounts of the same (or a mapped) name."""

    def __init__(self, uow: UnitOfWork, keyring: Keyring, clock: Clock, audit: AuditLog) -> None:
        self._uow = uow
        self._keyring = keyring
        self._clock = clock
        self._audit = audit

    def plan(self, stores: list[StoreFile], rename: Mapping[str, str]) -> ImportPlan:
        plan = ImportPlan()
        taken: set[tuple[int, Service, str]] = set()
        keys: set[str] = set()
        for store in stores:
            username = rename.get(store.username, store.username)
            account = self._account(store, username, plan)
            entries = _entries(store, username, plan) if account is not None else None
            if account is None or entries is None:
                continue
            for digest_hex, entry in entries:
                planned = self._entry(
                    store, account=account, digest_hex=digest_hex, entry=entry, plan=plan, taken=taken, keys=keys
                )
                if planned is not None:
                    plan.planned.append(planned)
        return plan

    def apply(self, plan: ImportPlan, actor: str) -> int:
        """Store every planned token (in the caller's transaction); audited on each owner's trail."""
        pepper_id = self._keyring.current_id
        pepper = self._keyring.current
        for item in sorted(plan.planned, key=lambda planned: (planned.account.id, planned.name)):
            self._uow.tokens.add(
                account_id=item.account.id,
                name=item.name,
                key=secret.legacy_key(pepper, item.digest_hex),
                digest=secret.digest(pepper, item.digest_hex),
                pepper_id=pepper_id,
                permissions=item.permissions,
                created_at=item.created_at,
                expires_at=item.expires_at,
                restrictions=item.restrictions,
                service=item.service,
                acls=item.acls,
                imported=True,
            )
            details: dict[str, DetailValue] = {
                "source": item.source,
                "service": item.service.value,
                "full_access": item.permissions.full_access,
                "scopes": item.permissions.scope_names(),
                "expires_at": item.expires_at,
                "restrictions": item.restrictions.describe(),
            }
            principal = Principal.admin(item.account)
            self._audit.record(
                AuditAction.ACCOUNT_TOKEN_IMPORT,
                actor=actor,
                account_id=principal.account.id,
                username=principal.account.username,
                target=item.name,
                details=details,
            )
        return len(plan.planned)

    def _account(self, store: StoreFile, username: str, plan: ImportPlan) -> Account | None:
        account = self._uow.accounts.get_by_username(username)
        if account is None:
            plan.skipped.append(Skipped(store.source, username, None, f"unknown account “{username}”: no such account"))
            return None
        if not account.may_use(store.service):
            what = "root or a reseller" if store.service == Service.WHM else "a hosting account"
            plan.skipped.append(
                Skipped(store.source, username, None, f"“{username}” is not {what}, so it cannot hold these tokens")
            )
            return None
        return account

    def _entry(
        self,
        store: StoreFile,
        *,
        account: Account,
        digest_hex: Any,
        entry: Any,
        plan: ImportPlan,
        taken: set[tuple[int, Service, str]],
        keys: set[str],
    ) -> Planned | None:
        name = entry.get("name") if isinstance(entry, dict) else None
        label = name if isinstance(name, str) else None

        def skip(reason: str) -> None:
            plan.skipped.append(Skipped(store.source, account.username, label, reason))

        if not isinstance(digest_hex, str) or secret.LEGACY_DIGEST_PATTERN.fullmatch(digest_hex) is None:
            skip("the digest is not a SHA-512 hex digest (128 lowercase hex characters)")
            return None
        if not isinstance(entry, dict) or not isinstance(name, str):
            skip("the entry has no token name")
            return None
        try:
            validate_name(name)
            created_at = _epoch(entry.get("create_time"), "create_time") or int(self._clock.now())
            expires_at = _epoch(entry.get("expires_at"), "expires_at")
            permissions = _permissions(entry)
            restrictions = _restrictions(entry.get("whitelist_ips"))
            acls = _acls(entry, store.service)
        except HostpanelError as error:
            skip(error.message)
            return None
        key = secret.legacy_key(self._keyring.current, digest_hex)
        if key in keys or self._uow.tokens.find_by_key(key) is not None:
            skip("this token is already imported")
            return None
        slot = (account.id, store.service, name)
        if slot in taken or self._uow.tokens.get_by_name(account.id, name, store.service) is not None:
            skip(f"duplicate name: “{account.username}” already has a token named “{name}”")
            return None
        taken.add(slot)
        keys.add(key)
        return Planned(
            store.source,
            account,
            store.service,
            name,
            digest_hex,
            created_at,
            expires_at,
            permissions,
            restrictions,
            acls,
        )


def _entries(store: StoreFile, username: str, plan: ImportPlan) -> list[tuple[Any, Any]] | None:
    try:
        data = json.loads(store.text)
    except json.JSONDecodeError as error:
        plan.skipped.append(Skipped(store.source, username, None, f"bad JSON: {error.msg} (line {error.lineno})"))
        return None
    tokens = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(tokens, dict):
        plan.skipped.append(Skipped(store.source, username, None, "bad JSON: no “tokens” object"))
        return None
    return list(tokens.items())


def _epoch(value: Any, field_name: str) -> int | None:
    if value in (None, "", 0):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 17:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_EPOCH:
        raise InvalidInput("entry", f"“{field_name}” is not a Unix time")
    return value


def _permissions(entry: dict[str, Any]) -> Permissions:
    if entry.get("has_full_access") in (1, "1", True):
        return Permissions.full()
    features = entry.get("features") or []
    if not isinstance(features, list) or not all(isinstance(item, str) for item in features):
        raise InvalidInput("entry", "“features” is not a list of feature names")
    unknown = sorted(item for item in features if item not in FEATURE_SCOPES)
    if unknown:
        raise InvalidInput("entry", f"features hostpanel does not have: {', '.join(unknown)}")
    if not features:
        raise InvalidInput("entry", "neither full access nor any feature")
    return Permissions.of([Scope(FEATURE_SCOPES[item], Access.WRITE) for item in features])


def _restrictions(whitelist: Any) -> Restrictions:
    if whitelist in (None, []):
        return NO_RESTRICTIONS
    if not isinstance(whitelist, list) or not all(isinstance(item, str) for item in whitelist):
        raise InvalidInput("entry", "“whitelist_ips” is not a list of addresses")
    return Restrictions.parse(whitelist_ips=whitelist)


def _acls(entry: dict[str, Any], service: Service) -> frozenset[str] | None:
    acls = entry.get("acls")
    if service != Service.WHM or acls is None:
        return None
    if not isinstance(acls, list) or not all(isinstance(item, str) for item in acls):
        raise InvalidInput("entry", "“acls” is not a list of ACL names")
    return parse_acls(acls)
