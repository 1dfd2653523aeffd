"""The lookup authentication does when a token is not in memory: one prepared statement on a pooled driver
connection, no unit of work and no SQL built per call.

The statement is the repository's `find_by_key` (the token joined with its account, by the indexed lookup key), run
on connections of the lookup's own (sqlite3 in autocommit mode: the one SELECT is its own read transaction;
psycopg in autocommit with a server-side prepared statement: one round trip). Rows become records without the SQL
layer's row objects, and the parts many tokens share (an account, a set of scopes, restrictions) are parsed once.
Should a connection fail, the lookup goes through the repository instead, so a database restart costs one retry.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import Engine

from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.tokens.cache import Found
from hostpanel.domain.tokens.model import ApiToken, PreviousSecret
from hostpanel.storage.repositories.accounts import ACCOUNT_COLUMNS, account_from_row
from hostpanel.storage.repositories.tokens import TOKEN_COLUMNS, permissions_from, restrictions_from

log = logging.getLogger(__name__)

_POOL = 8  # connections kept; more concurrent cold lookups wait for one
_PARSED = 10_000  # distinct accounts, scope sets and restrictions remembered before starting afresh


def _statement(placeholder: str) -> str:
    token = ", ".join(f"t.{column.name}" for column in TOKEN_COLUMNS)
    owner = ", ".join(f"a.{column.name}" for column in ACCOUNT_COLUMNS)
    return (
        f"SELECT {token}, {owner} FROM api_tokens t JOIN accounts a ON a.id = t.account_id "  # noqa: S608 - fixed text
        f"WHERE t.key = {placeholder}"
    )


class KeyLookup:
    """`find_by_key` on driver connections of its own (see the module doc); `fallback` is the repository's."""

    def __init__(self, engine: Engine, fallback: Callable[[str], Found | None]) -> None:
        self._engine = engine
        self._fallback = fallback
        self._postgres = engine.dialect.name == "postgresql"
        self._sql = _statement("%s" if self._postgres else "?")
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._slots = threading.BoundedSemaphore(_POOL)
        self._rows = _Rows()

    def __call__(self, key: str) -> Found | None:
        with self._slots:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                connection = None
            try:
                if connection is None:
                    connection = self._connect()
                if self._postgres:
                    row = connection.execute(self._sql, (key,), prepare=True).fetchone()
                else:
                    row = connection.execute(self._sql, (key,)).fetchone()
            except Exception as error:
                # Expected while the database is away (a restart): one line, no traceback; the repository's own
                # path reports the outage to the caller as every other database failure.
                log.warning("token lookup connection failed (%s); using the repository", type(error).__name__)
                _close(connection)
                return self._fallback(key)
            self._idle.put(connection)
        return self._rows.found(row) if row is not None else None

    def close(self) -> None:
        while True:
            try:
                _close(self._idle.get_nowait())
            except queue.Empty:
                return

    def _connect(self) -> Any:
        pooled = self._engine.raw_connection()  # the engine's own connect settings (SQLite pragmas) apply
        driver: Any = pooled.driver_connection
        pooled.detach()  # ours from now on, never returned to the engine's pool
        if self._postgres:
            driver.autocommit = True
        return driver


def _close(connection: Any) -> None:
    if connection is None:
        return
    try:
        connection.close()
    except Exception:
        log.debug("closing a token lookup connection failed", exc_info=True)


_TOKEN_WIDTH = len(TOKEN_COLUMNS)
_T = {column.name: n for n, column in enumerate(TOKEN_COLUMNS)}


class _Rows:
    """Records from rows, with the parts tokens share (an account, its ACLs; scopes and restrictions through the
    repository's parsers) parsed once."""

    def __init__(self) -> None:
        self._accounts: dict[tuple[Any, ...], Account] = {}
        self._acls: dict[str | None, frozenset[str] | None] = {None: None}

    def found(self, row: Any) -> Found:
        return self._token(row), self._account(tuple(row[_TOKEN_WIDTH:]))

    def _token(self, row: Any) -> ApiToken:
        t = _T
        return ApiToken(
            id=row[t["id"]],
            account_id=row[t["account_id"]],
            name=row[t["name"]],
            key=row[t["key"]],
            digest=bytes(row[t["digest"]]),
            pepper_id=row[t["pepper_id"]],
            permissions=permissions_from(bool(row[t["full_access"]]), row[t["scopes"]]),
            created_at=row[t["created_at"]],
            expires_at=row[t["expires_at"]],
            last_used_at=row[t["last_used_at"]],
            last_used_ip=row[t["last_used_ip"]],
            rate_limit=row[t["rate_limit"]],
            restrictions=restrictions_from(row[t["restrictions"]]),
            service=Service(row[t["service"]]),
            acls=self._acl(row[t["acls"]]),
            previous=_previous(row),
            rotated_at=row[t["rotated_at"]],
            max_uses=row[t["max_uses"]],
            uses=row[t["uses"]],
            imported=bool(row[t["imported"]]),
        )

    def _acl(self, text: str | None) -> frozenset[str] | None:
        if text in self._acls:
            return self._acls[text]
        found = frozenset(json.loads(text)) if text is not None else None
        self._acls = _bounded(self._acls)
        self._acls[text] = found
        return found

    def _account(self, columns: tuple[Any, ...]) -> Account:
        found = self._accounts.get(columns)
        if found is None:
            found = account_from_row(SimpleNamespace(**dict(zip(_ACCOUNT_NAMES, columns, strict=True))))
            self._accounts = _bounded(self._accounts)
            self._accounts[columns] = found
        return found


def _previous(row: Any) -> PreviousSecret | None:
    """The rotated-out secret, as the repository reads it (`_previous_from_row`)."""
    t = _T
    digest, valid_until = row[t["prev_digest"]], row[t["prev_valid_until"]]
    if digest is None or valid_until is None:
        return None
    return PreviousSecret(bytes(digest), row[t["prev_pepper_id"]], valid_until, row[t["prev_last_used_at"]])


_ACCOUNT_NAMES = [column.name for column in ACCOUNT_COLUMNS]
K = TypeVar("K")
V = TypeVar("V")


def _bounded(parsed: dict[K, V]) -> dict[K, V]:
    """The same dict, or a fresh one once it holds `_PARSED` entries (parsed parts are cheap to parse again)."""
    return parsed if len(parsed) < _PARSED else {}
