"""Login failure counters, blocks and trusted networks in the database (shared by every process).

The lockout check runs before every API request, so the blocks in force are kept in memory and read again only when
their generation changes (see `storage/changes.py`): a request from an address that is not blocked reads nothing.
A block set or lifted by this process is seen by its next check; by other processes on SQLite at once, on
PostgreSQL within a notification's delivery time. While the generation is unknown, every check reads the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hostpanel.domain.errors import WouldBlock
from hostpanel.domain.security.lockout import Block, KeyKind
from hostpanel.storage.changes import Topic, changes_for, mark_changed, settle
from hostpanel.storage.engine import WRITE_OPTION
from hostpanel.storage.repositories.errors import is_unique_violation
from hostpanel.storage.tables import auth_blocks, auth_failures, trusted_networks

_KEEP_BLOCKS = 2 * 86400.0  # expired blocks are kept a while: a repeat offence within a day locks out longer


def _writer(engine: Engine) -> Connection:
    return engine.connect().execution_options(**{WRITE_OPTION: True})


@contextmanager
def _changing_blocks(engine: Engine) -> Iterator[Connection]:
    """A writing transaction on the blocks, announced to every process's view of them once it has ended."""
    with _writer(engine) as connection:
        committed = False
        try:
            with connection.begin():
                yield connection
                mark_changed(connection, Topic.BLOCKS)
            committed = True
        finally:
            settle(connection, committed)


_PRUNE_EVERY = 60.0  # seconds between sweeps of failures too old to count, per process


class SqlFailureStore:
    """Login failures and blocks in the database, with the blocks in force cached while their generation holds."""

    def __init__(self, engine: Engine, windows: Mapping[KeyKind, float]) -> None:
        self._engine = engine
        self._windows = dict(windows)
        self._pruned_at = float("-inf")
        self._changes = changes_for(engine)
        self._lock = threading.Lock()
        self._view: tuple[int, dict[str, float]] | None = None  # (generation, until by key) of the blocks stored

    def blocked_until(self, keys: Sequence[str], now: float) -> float | None:
        if not keys:
            return None
        blocks = self._blocks_in_memory()
        if blocks is None:
            query = select(func.max(auth_blocks.c.until)).where(auth_blocks.c.key.in_(keys), auth_blocks.c.until > now)
            with self._engine.connect() as connection:
                until = connection.execute(query).scalar()
            return float(until) if until is not None else None
        found = [until for key in keys if (until := blocks.get(key)) is not None and until > now]
        return max(found) if found else None

    def blocked_until_in_memory(self, keys: Sequence[str], now: float) -> float | None:
        generation = self._changes.generation(Topic.BLOCKS)
        view = self._view
        if generation is None or view is None or view[0] != generation:
            raise WouldBlock
        found = [until for key in keys if (until := view[1].get(key)) is not None and until > now]
        return max(found) if found else None

    def _blocks_in_memory(self) -> dict[str, float] | None:
        """Every stored block's end by key, read again when the generation moved; None while it is unknown."""
        generation = self._changes.generation(Topic.BLOCKS)
        if generation is None:
            return None
        view = self._view
        if view is not None and view[0] == generation:
            return view[1]
        with self._lock:  # one reader refreshes; the generation is read before the rows, so a change races safely
            view = self._view
            if view is not None and view[0] == generation:
                return view[1]  # refreshed by the thread this one waited for
            with self._engine.connect() as connection:
                rows = connection.execute(select(auth_blocks.c.key, auth_blocks.c.until)).all()
            blocks = {row.key: float(row.until) for row in rows}
            self._view = (generation, blocks)
        return blocks

    def add_failure(self, key: str, at: float, horizon: float) -> list[float]:
        with _writer(self._engine) as connection, connection.begin():
            old = (auth_failures.c.key == key) & (auth_failures.c.at <= at - horizon)
            connection.execute(delete(auth_failures).where(old))
            if at - self._pruned_at >= _PRUNE_EVERY:
                self._pruned_at = at
                self._prune(connection, at)
            connection.execute(insert(auth_failures).values(key=key, at=at))
            query = select(auth_failures.c.at).where(auth_failures.c.key == key).order_by(auth_failures.c.at)
            return [float(value) for value in connection.execute(query).scalars()]

    def _prune(self, connection: Connection, now: float) -> None:
        """Each address that failed once and never again would otherwise keep its row for good: a scan from many
        addresses must not grow the table without bound. Keys start with their kind (`ip:`...): one index range each."""
        key = auth_failures.c.key
        for kind, window in self._windows.items():
            in_kind = (key > f"{kind}:") & (key < f"{kind};")  # ';' sorts right after ':'
            connection.execute(delete(auth_failures).where(in_kind & (auth_failures.c.at <= now - window)))

    def get_block(self, key: str) -> Block | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(auth_blocks).where(auth_blocks.c.key == key)).first()
        return Block(row.key, row.until, row.lockouts, row.blocked_at) if row else None

    def put_block(self, block: Block) -> None:
        values = {"until": block.until, "lockouts": block.lockouts, "blocked_at": block.blocked_at}
        with _changing_blocks(self._engine) as connection:
            connection.execute(delete(auth_blocks).where(auth_blocks.c.until < block.blocked_at - _KEEP_BLOCKS))
            renewed = connection.execute(update(auth_blocks).where(auth_blocks.c.key == block.key).values(values))
            if not renewed.rowcount:
                connection.execute(insert(auth_blocks).values(key=block.key, **values))

    def blocks(self, now: float) -> list[Block]:
        query = select(auth_blocks).where(auth_blocks.c.until > now).order_by(auth_blocks.c.until, auth_blocks.c.key)
        with self._engine.connect() as connection:
            return [Block(row.key, row.until, row.lockouts, row.blocked_at) for row in connection.execute(query)]

    def clear(self, key: str) -> bool:
        with _changing_blocks(self._engine) as connection:
            blocks = connection.execute(delete(auth_blocks).where(auth_blocks.c.key == key)).rowcount
            failures = connection.execute(delete(auth_failures).where(auth_failures.c.key == key)).rowcount
        return bool(blocks or failures)


class SqlTrustedNetworks:
    """The trusted networks in the database, each write in a transaction of its own."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def all(self) -> list[tuple[str, str]]:
        query = select(trusted_networks.c.network, trusted_networks.c.note).order_by(trusted_networks.c.network)
        with self._engine.connect() as connection:
            return [(row.network, row.note) for row in connection.execute(query)]

    def add(self, network: str, note: str, at: int) -> bool:
        try:
            with _writer(self._engine) as connection, connection.begin():
                connection.execute(insert(trusted_networks).values(network=network, note=note, created_at=at))
        except IntegrityError as error:
            if is_unique_violation(error):
                return False
            raise
        return True

    def remove(self, network: str) -> bool:
        with _writer(self._engine) as connection, connection.begin():
            statement = delete(trusted_networks).where(trusted_networks.c.network == network)
            return bool(connection.execute(statement).rowcount)
