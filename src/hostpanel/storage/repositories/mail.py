"""Mailboxes and forwarders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hostpanel.domain.accounts.model import AccountStatus
from hostpanel.domain.errors import Conflict
from hostpanel.domain.mail.model import Forwarder, Mailbox, PublishedMailbox
from hostpanel.storage.repositories.errors import is_unique_violation
from hostpanel.storage.tables import accounts, forwarders, mailboxes


def _mailbox(row: Any) -> Mailbox:
    return Mailbox(
        id=row.id,
        account_id=row.account_id,
        domain=row.domain,
        local_part=row.local_part,
        password_hash=row.password_hash,
        quota_mb=row.quota_mb,
        created_at=row.created_at,
    )


def _forwarder(row: Any) -> Forwarder:
    return Forwarder(
        id=row.id,
        account_id=row.account_id,
        domain=row.domain,
        address=row.address,
        destination=row.destination,
        created_at=row.created_at,
    )


class SqlMailRepository:
    """The mail repository on a database connection (see `ports.MailRepository`)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_mailbox(
        self, *, account_id: int, domain: str, local_part: str, password_hash: str, quota_mb: int, created_at: int
    ) -> Mailbox:
        values = {
            "account_id": account_id,
            "domain": domain,
            "local_part": local_part,
            "password_hash": password_hash,
            "quota_mb": quota_mb,
            "created_at": created_at,
        }
        try:
            row = self._c.execute(insert(mailboxes).values(values).returning(*mailboxes.c)).one()
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict(f"The email account “{local_part}@{domain}” already exists.") from None
            raise
        return _mailbox(row)

    def get_mailbox(self, account_id: int, domain: str, local_part: str) -> Mailbox | None:
        c = mailboxes.c
        query = select(mailboxes).where(c.account_id == account_id, c.domain == domain, c.local_part == local_part)
        row = self._c.execute(query).first()
        return _mailbox(row) if row else None

    def mailboxes(self, account_id: int) -> list[Mailbox]:
        query = select(mailboxes).where(mailboxes.c.account_id == account_id).order_by(mailboxes.c.id)
        return [_mailbox(row) for row in self._c.execute(query)]

    def set_mailbox_password(self, mailbox_id: int, password_hash: str) -> None:
        self._c.execute(update(mailboxes).where(mailboxes.c.id == mailbox_id).values(password_hash=password_hash))

    def set_mailbox_quota(self, mailbox_id: int, quota_mb: int) -> None:
        self._c.execute(update(mailboxes).where(mailboxes.c.id == mailbox_id).values(quota_mb=quota_mb))

    def delete_mailbox(self, mailbox_id: int) -> bool:
        return self._c.execute(delete(mailboxes).where(mailboxes.c.id == mailbox_id)).rowcount > 0

    def add_forwarder(self, account_id: int, domain: str, address: str, destination: str, created_at: int) -> Forwarder:
        values = {
            "account_id": account_id,
            "domain": domain,
            "address": address,
            "destination": destination,
            "created_at": created_at,
        }
        try:
            row = self._c.execute(insert(forwarders).values(values).returning(*forwarders.c)).one()
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict(f"“{address}” already forwards to “{destination}”.") from None
            raise
        return _forwarder(row)

    def forwarders(self, account_id: int) -> list[Forwarder]:
        query = select(forwarders).where(forwarders.c.account_id == account_id).order_by(forwarders.c.id)
        return [_forwarder(row) for row in self._c.execute(query)]

    def count_forwarders(self, account_id: int, address: str) -> tuple[int, int]:
        c = forwarders.c
        query = select(func.count(), func.count().filter(c.address == address)).where(c.account_id == account_id)
        total, of_address = self._c.execute(query).one()
        return int(of_address), int(total)

    def delete_forwarder(self, account_id: int, address: str, destination: str) -> bool:
        c = forwarders.c
        statement = delete(forwarders).where(
            c.account_id == account_id, c.address == address, c.destination == destination
        )
        return self._c.execute(statement).rowcount > 0

    def published(self) -> tuple[list[PublishedMailbox], list[Forwarder]]:
        active = accounts.c.status == AccountStatus.ACTIVE.value
        boxes = self._c.execute(
            select(mailboxes, accounts.c.username)
            .join(accounts, accounts.c.id == mailboxes.c.account_id)
            .where(active)
            .order_by(mailboxes.c.domain, mailboxes.c.local_part)
        )
        forwards = self._c.execute(
            select(forwarders).join(accounts, accounts.c.id == forwarders.c.account_id).where(active)
        )
        return [PublishedMailbox(_mailbox(row), row.username) for row in boxes], [_forwarder(r) for r in forwards]
