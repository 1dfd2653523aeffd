"""Web sessions, found by the keyed digest of the cookie's secret."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from hostpanel.domain.accounts.model import Account
from hostpanel.domain.sessions.model import SessionStage, WebSession
from hostpanel.storage.repositories.accounts import ACCOUNT_COLUMNS, account_from_row
from hostpanel.storage.tables import accounts, web_sessions

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
