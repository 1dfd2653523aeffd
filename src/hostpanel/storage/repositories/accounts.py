"""Accounts and their domains."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from hostpanel.domain.accounts.model import ROOT, Account, AccountKind, AccountStatus
from hostpanel.domain.errors import Conflict
from hostpanel.storage.changes import Topic, account, mark_changed
from hostpanel.storage.repositories.errors import is_unique_violation
from hostpanel.storage.tables import (
    account_domains,
    accounts,
    api_tokens,
    backup_jobs,
    forwarders,
    login_tickets,
    mailboxes,
    recovery_codes,
    sites,
    two_factor,
    web_sessions,
)

ACCOUNT_COLUMNS = (
    accounts.c.id,
    accounts.c.username,
    accounts.c.password_hash,
    accounts.c.email,
    accounts.c.status,
    accounts.c.created_at,
    accounts.c.disabled_features,
    accounts.c.notify_new_ip,
    accounts.c.kind,
    accounts.c.owner,
    accounts.c.acls,
    accounts.c.plan,
    accounts.c.limits,
    accounts.c.suspend_reason,
    accounts.c.suspended_at,
    accounts.c.suspend_locked,
)


def account_from_row(row: RowMapping | Any) -> Account:
    acls = getattr(row, "acls", None)
    return Account(
        id=row.id,
        username=row.username,
        password_hash=row.password_hash,
        email=row.email,
        status=AccountStatus(row.status),
        created_at=row.created_at,
        disabled_features=frozenset(json.loads(row.disabled_features)),
        notify_new_ip=bool(getattr(row, "notify_new_ip", False)),
        kind=AccountKind(getattr(row, "kind", None) or AccountKind.ACCOUNT),
        owner=getattr(row, "owner", None) or ROOT,
        acls=frozenset(json.loads(acls)) if acls is not None else None,
        plan=getattr(row, "plan", None),
        limits=json.loads(getattr(row, "limits", None) or "{}"),
        suspend_reason=getattr(row, "suspend_reason", None),
        suspended_at=getattr(row, "suspended_at", None),
        suspend_locked=bool(getattr(row, "suspend_locked", False)),
    )


def _acls_text(acls: frozenset[str] | None) -> str | None:
    return json.dumps(sorted(acls)) if acls is not None else None


class SqlAccountRepository:
    """The account repository on a database connection (see `ports.AccountRepository`)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(
        self,
        username: str,
        password_hash: str,
        email: str | None,
        created_at: int,
        *,
        kind: AccountKind = AccountKind.ACCOUNT,
        owner: str = ROOT,
        acls: frozenset[str] | None = None,
    ) -> Account:
        values = {
            "username": username,
            "password_hash": password_hash,
            "email": email,
            "status": AccountStatus.ACTIVE.value,
            "disabled_features": "[]",
            "created_at": created_at,
            "kind": kind.value,
            "owner": owner,
            "acls": _acls_text(acls),
        }
        try:
            account_id = self._c.execute(insert(accounts).values(values).returning(accounts.c.id)).scalar_one()
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict(f"The account “{username}” already exists.") from None
            raise
        return account_from_row(_Row(id=account_id, **values))

    def get(self, account_id: int) -> Account | None:
        row = self._c.execute(select(*ACCOUNT_COLUMNS).where(accounts.c.id == account_id)).first()
        return account_from_row(row) if row else None

    def get_by_username(self, username: str) -> Account | None:
        row = self._c.execute(select(*ACCOUNT_COLUMNS).where(accounts.c.username == username)).first()
        return account_from_row(row) if row else None

    def all(self) -> list[Account]:
        """Every hosting account (never root), by name."""
        query = select(*ACCOUNT_COLUMNS).where(accounts.c.kind == AccountKind.ACCOUNT.value)
        return [account_from_row(row) for row in self._c.execute(query.order_by(accounts.c.username))]

    def owned_by(self, owner: str) -> list[Account]:
        query = select(*ACCOUNT_COLUMNS).where(accounts.c.kind == AccountKind.ACCOUNT.value, accounts.c.owner == owner)
        return [account_from_row(row) for row in self._c.execute(query.order_by(accounts.c.username))]

    def resellers(self) -> list[Account]:
        query = select(*ACCOUNT_COLUMNS).where(
            accounts.c.kind == AccountKind.ACCOUNT.value, accounts.c.acls.is_not(None)
        )
        return [account_from_row(row) for row in self._c.execute(query.order_by(accounts.c.username))]

    def by_domain(self, domain: str) -> Account | None:
        query = select(*ACCOUNT_COLUMNS).join(account_domains, account_domains.c.account_id == accounts.c.id)
        row = self._c.execute(query.where(account_domains.c.domain == domain)).first()
        return account_from_row(row) if row else None

    def main_domains(self) -> dict[int, str]:
        """Each account's first domain, by account id."""
        first = select(func.min(account_domains.c.id)).group_by(account_domains.c.account_id)
        query = select(account_domains.c.account_id, account_domains.c.domain).where(account_domains.c.id.in_(first))
        return {row.account_id: row.domain for row in self._c.execute(query)}

    def domains(self, account_id: int) -> list[str]:
        query = (
            select(account_domains.c.domain)
            .where(account_domains.c.account_id == account_id)
            .order_by(account_domains.c.id)
        )
        return list(self._c.execute(query).scalars())

    def remove_domain(self, account_id: int, domain: str) -> bool:
        table = account_domains
        removed = self._c.execute(delete(table).where(table.c.account_id == account_id, table.c.domain == domain))
        return bool(removed.rowcount)

    def nested_domains(self, domain: str) -> list[tuple[str, int]]:
        parents = [".".join(domain.split(".")[i:]) for i in range(1, domain.count("."))]
        query = select(account_domains.c.domain, account_domains.c.account_id).where(
            account_domains.c.domain.in_(parents) | account_domains.c.domain.endswith("." + domain, autoescape=True)
        )
        return [(row.domain, row.account_id) for row in self._c.execute(query)]

    def set_password_hash(self, account_id: int, password_hash: str) -> None:
        self._c.execute(update(accounts).where(accounts.c.id == account_id).values(password_hash=password_hash))

    def set_status(
        self,
        account_id: int,
        status: AccountStatus,
        reason: str | None = None,
        at: int | None = None,
        locked: bool = False,
    ) -> None:
        values = {"status": status.value, "suspend_reason": reason, "suspended_at": at, "suspend_locked": locked}
        self._c.execute(update(accounts).where(accounts.c.id == account_id).values(**values))
        mark_changed(self._c, Topic.TOKENS, account(account_id))  # authentication reads the account with each token

    def set_plan(self, account_id: int, plan: str | None, limits: dict[str, str]) -> None:
        values = {"plan": plan, "limits": json.dumps(limits, sort_keys=True)}
        self._c.execute(update(accounts).where(accounts.c.id == account_id).values(**values))
        mark_changed(self._c, Topic.TOKENS, account(account_id))  # cached with its tokens: the package

    def set_acls(self, account_id: int, acls: frozenset[str] | None) -> None:
        self._c.execute(update(accounts).where(accounts.c.id == account_id).values(acls=_acls_text(acls)))
        mark_changed(self._c, Topic.TOKENS, account(account_id))  # WHM tokens hold their owner's ACLs

    def set_owner(self, account_id: int, owner: str) -> None:
        self._c.execute(update(accounts).where(accounts.c.id == account_id).values(owner=owner))
        mark_changed(self._c, Topic.TOKENS, account(account_id))

    def set_email(self, account_id: int, email: str | None) -> None:
        self._c.execute(update(accounts).where(accounts.c.id == account_id).values(email=email))
        mark_changed(self._c, Topic.TOKENS, account(account_id))

    def reseller_limits(self, account_id: int) -> dict[str, str]:
        text = self._c.execute(select(accounts.c.reseller_limits).where(accounts.c.id == account_id)).scalar()
        loaded: dict[str, str] = json.loads(text or "{}")
        return loaded

    def set_reseller_limits(self, account_id: int, limits: dict[str, str]) -> None:
        value = json.dumps(limits, sort_keys=True)
        self._c.execute(update(accounts).where(accounts.c.id == account_id).values(reseller_limits=value))
        mark_changed(self._c, Topic.TOKENS, account(account_id))

    def set_disabled_features(self, account_id: int, features: frozenset[str]) -> None:
        value = json.dumps(sorted(features))
        self._c.execute(update(accounts).where(accounts.c.id == account_id).values(disabled_features=value))
        mark_changed(self._c, Topic.TOKENS, account(account_id))

    def set_notify_new_ip(self, account_id: int, on: bool) -> None:
        self._c.execute(update(accounts).where(accounts.c.id == account_id).values(notify_new_ip=on))

    def add_domain(self, account_id: int, domain: str, created_at: int) -> None:
        try:
            self._c.execute(insert(account_domains).values(account_id=account_id, domain=domain, created_at=created_at))
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict(f"The domain “{domain}” already belongs to an account.") from None
            raise

    def delete(self, account_id: int) -> None:
        # Explicit deletes, so the outcome does not depend on the backend enforcing ON DELETE CASCADE.
        for owned in (mailboxes, forwarders, backup_jobs, sites):
            self._c.execute(delete(owned).where(owned.c.account_id == account_id))
        self._c.execute(delete(api_tokens).where(api_tokens.c.account_id == account_id))
        for table in (web_sessions, login_tickets, recovery_codes, two_factor):
            self._c.execute(delete(table).where(table.c.account_id == account_id))
        self._c.execute(delete(account_domains).where(account_domains.c.account_id == account_id))
        self._c.execute(delete(accounts).where(accounts.c.id == account_id))
        mark_changed(self._c, Topic.TOKENS, account(account_id))


class _Row:
    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)
