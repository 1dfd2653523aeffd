"""Web sessions, found by the keyed digest of the cookie's secret."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.sessions.model import LoginTicket, SessionStage, WebSession
from hostpanel.storage.repositories.accounts import ACCOUNT_COLUMNS, account_from_row
from hostpanel.storage.tables import accounts, login_tickets, web_sessions

SESSION_COLUMNS = tuple(web_sessions.c)
_ACCOUNT = "account__"


def _session_from_row(row: Any) -> WebSession:
    return WebSession(
        id=row.id,
        account_id=row.account_id,
        stage=SessionStage(row.stage),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        elevated_at=row.elevated_at,
        ip=row.ip,
        user_agent=row.user_agent,
        service=Service(row.service),
    )


class SqlSessionRepository:
    """The web session repository on a database connection (see `ports.SessionRepository`)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(
        self,
        *,
        account_id: int,
        digest: bytes,
        stage: SessionStage,
        created_at: int,
        elevated_at: int | None,
        ip: str | None,
        user_agent: str | None,
        service: Service = Service.CPANEL,
    ) -> WebSession:
        statement = (
            insert(web_sessions)
            .values(
                account_id=account_id,
                digest=digest,
                stage=stage.value,
                created_at=created_at,
                last_seen_at=created_at,
                elevated_at=elevated_at,
                ip=ip,
                user_agent=user_agent,
                service=service.value,
            )
            .returning(*SESSION_COLUMNS)
        )
        return _session_from_row(self._c.execute(statement).one())

    def find(self, digest: bytes) -> tuple[WebSession, Account] | None:
        query = (
            select(*SESSION_COLUMNS, *(column.label(f"{_ACCOUNT}{column.name}") for column in ACCOUNT_COLUMNS))
            .join(accounts, accounts.c.id == web_sessions.c.account_id)
            .where(web_sessions.c.digest == digest)
        )
        row = self._c.execute(query).first()
        if row is None:
            return None
        fields = row._mapping
        account = account_from_row(_Prefixed(fields))
        return _session_from_row(row), account

    def touch(self, session_id: int, at: int) -> None:
        self._c.execute(update(web_sessions).where(web_sessions.c.id == session_id).values(last_seen_at=at))

    def elevate(self, session_id: int, at: int) -> None:
        self._c.execute(update(web_sessions).where(web_sessions.c.id == session_id).values(elevated_at=at))

    def replace_secret(
        self, session_id: int, digest: bytes, stage: SessionStage, created_at: int, elevated_at: int | None
    ) -> WebSession:
        statement = (
            update(web_sessions)
            .where(web_sessions.c.id == session_id)
            .values(digest=digest, stage=stage.value, created_at=created_at, elevated_at=elevated_at)
            .returning(*SESSION_COLUMNS)
        )
        return _session_from_row(self._c.execute(statement).one())

    def delete(self, session_id: int) -> None:
        self._c.execute(delete(web_sessions).where(web_sessions.c.id == session_id))

    def delete_for_account(self, account_id: int, keep: int | None = None) -> int:
        condition = web_sessions.c.account_id == account_id
        if keep is not None:
            condition = and_(condition, web_sessions.c.id != keep)
        return int(self._c.execute(delete(web_sessions).where(condition)).rowcount)

    def add_ticket(self, ticket: LoginTicket, digest: bytes) -> None:
        values = {
            "digest": digest,
            "account_id": ticket.account_id,
            "service": ticket.service.value,
            "created_by": ticket.created_by,
            "created_at": ticket.created_at,
            "expires_at": ticket.expires_at,
        }
        self._c.execute(insert(login_tickets).values(values))

    def take_ticket(self, digest: bytes) -> LoginTicket | None:
        """Remove the ticket with this digest and return it: whoever removed it used it, so it works once."""
        statement = delete(login_tickets).where(login_tickets.c.digest == digest).returning(*login_tickets.c)
        row = self._c.execute(statement).first()
        if row is None:
            return None
        return LoginTicket(row.account_id, Service(row.service), row.created_by, row.created_at, row.expires_at)

    def delete_tickets(self, account_id: int) -> int:
        statement = delete(login_tickets).where(login_tickets.c.account_id == account_id)
        return int(self._c.execute(statement).rowcount)

    def count_live(self, account_id: int, created_since: int, seen_since: int) -> int:
        query = (
            select(func.count())
            .select_from(web_sessions)
            .where(
                web_sessions.c.account_id == account_id,
                web_sessions.c.stage == SessionStage.SIGNED_IN.value,
                web_sessions.c.created_at >= created_since,
                web_sessions.c.last_seen_at >= seen_since,
            )
        )
        return int(self._c.execute(query).scalar_one())


class _Prefixed:
    def __init__(self, fields: Any) -> None:
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        return self._fields[_ACCOUNT + name]
