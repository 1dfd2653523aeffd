"""Telling every process that what authentication reads has changed, so in-process caches never outlive the data.

Processes keep two things in memory (see `domain/tokens/cache.py` and `storage/throttle.py`): verified tokens with
their accounts (topic TOKENS) and the login blocks in force (topic BLOCKS). Each cache entry is stamped with the
topic's *generation* read before the database was read, and used only while the generation is unchanged. A
generation of None means "do not trust the cache now": read the database.

Every statement that changes a topic's rows calls `mark_changed(connection, topic, *subjects)` inside its
transaction (the repositories do it: token creation, update, rename and deletion of every kind, naming the token's
lookup key; account status, features and deletion, naming the account; blocks set and lifted); whoever commits calls
`settle(connection, committed)` afterwards (the unit of work does). Token caches read the subjects (`token_changes`)
and drop only what they name; naming nothing means "anything": they start over. Which backend:

- **SQLite** (every process on one machine): a small shared-memory file beside the database holds, per topic, two
  counters, `begun` and `done`; the generation is `done` when both are equal, else None. A writer takes a ticket
  (`begun + 1`) inside its transaction, after its first write, so it holds SQLite's write lock: every earlier
  ticket's transaction has ended, and `done` is first raised to the old `begun` (this repairs a writer killed
  between its commit and its `settle`). After the commit `done` becomes at least the ticket. So from before the
  change is visible until after it is committed the caches are off, and once `settle` returns every process's
  next request sees a new generation: a revocation is effective on every process before the revoke call returns.
  A writer killed after its ticket leaves the caches off (safe, slower) until the next writer or `tidy()` repairs
  the counters under the write lock. For TOKENS each subject takes a ticket of its own and is written, before
  `begun` shows it, into a ring of `_RING` slots after the counters; a token cache applies every slot up to `begun`
  (dropping what it names, even before the commit) and stamps its loads with `done`, so a load that may predate a
  change is not kept. A reader that fell more than the ring behind starts over.
- **PostgreSQL** (any number of processes on any number of machines): the change sends a NOTIFY inside its
  transaction, so every listening process hears of it when it commits, even if the writer dies just after. Each
  process runs a listener thread on a connection of its own; each notification moves the process's generation and,
  for TOKENS, carries its subject (`key:<lookup key>`, `account:<id>`), numbered in the process's own feed.
  For TOKENS the writer then sends a *barrier* notification (numbered by its transaction id, allocated after the
  change committed, so every listener receives the change first) and waits until every live process has
  acknowledged that barrier or a later one in `token_cache_nodes`. A process is live while its lease (renewed every
  second, `LEASE_SECONDS` long, measured on the database's clock) holds; it trusts its caches only until its own
  lease ends as measured before the renewal was sent, so a process that is cut off, frozen or too slow to
  acknowledge has stopped trusting its caches by the time a writer stops waiting for it. On regaining its lease
  after a lapse it discards everything it had. So a revoke returns only once no process can still accept the
  token. Blocks are not waited for: other processes see a new block within a notification's delivery time.
"""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import socket
import struct
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import Connection, make_url

from hostpanel.storage.engine import WRITE_OPTION

if TYPE_CHECKING:  # imported by the PostgreSQL listener when it starts: SQLite processes never need it
    import psycopg

log = logging.getLogger(__name__)

_PENDING = "hostpanel_changes"  # connection.info key: the topics (tickets, subjects) this transaction changed

# What changed, as far as token caches care: one token's lookup key, one account (by id), or anything at all.
KEY, ACCOUNT, EVERYTHING = "key", "account", "all"
Subject = tuple[str, str]  # (KEY, lookup key) | (ACCOUNT, str(account id)) | (EVERYTHING, "")
Change = tuple[int, str, str]  # (position, kind, value): a subject as a process's feed reports it


def token_key(key: str) -> Subject:
    """The token with this lookup key was created, changed or deleted."""
    return (KEY, key)


def account(account_id: int) -> Subject:
    """The account (and so every token of it, as authentication reads them with it) changed or was deleted."""
    return (ACCOUNT, str(account_id))


class _Pending:
    """What one transaction announced for a topic: the last ticket it took and the subjects it named."""

    __slots__ = ("subjects", "ticket")

    def __init__(self, ticket: int | None, subjects: list[Subject]) -> None:
        self.ticket = ticket
        self.subjects = subjects


class Topic(StrEnum):
    """The data in-process caches hold, whose changes are announced to every process."""

    TOKENS = "tokens"  # tokens and the accounts they belong to: what token authentication reads
    BLOCKS = "blocks"  # login blocks: what the lockout check reads


class Changes(Protocol):
    """A change feed: the generation caches check, and the announcement of changes to every process."""

    def generation(self, topic: Topic) -> int | None:
        """The topic's current generation, or None when caches of it must not be used now."""
        ...

    def begin(
        self, connection: Connection, topic: Topic, subjects: Iterable[Subject] = (), first: bool = True
    ) -> int | None:
        """Inside a transaction that has changed the topic: announce the change (a ticket). `first`: the first
        announcement of this topic in this transaction."""
        ...

    def token_position(self) -> int | None:
        """Where this process's feed of token changes stands (None: token caches must not be trusted now)."""
        ...

    def token_stable(self) -> int:
        """A position at or below which every announced token change has committed: what a load is stamped with."""
        ...

    def token_changes(self, after: int) -> tuple[int, list[Change]] | None:
        """The token changes announced after `after`, and the position they reach; None when some were lost."""
        ...

    def end(self, pending: dict[Topic, _Pending], committed: bool) -> None:
        """After the transaction ended: make the change known to every process (waiting where promised)."""
        ...

    def tidy(self) -> None:
        """Periodic upkeep (repairs after a crashed writer)."""
        ...

    def close(self) -> None: ...


def mark_changed(connection: Connection, topic: Topic, *subjects: Subject) -> None:
    """Call inside the transaction, after the statement that changed `topic`'s rows, naming what changed (tokens by
    lookup key, accounts by id) so caches drop only that; naming nothing means anything may have changed."""
    pending: dict[Topic, _Pending] = connection.info.setdefault(_PENDING, {})
    said = list(subjects) if subjects else [(EVERYTHING, "")]
    already = pending.get(topic)
    if already is not None and topic != Topic.TOKENS:
        return  # blocks are announced once per transaction
    ticket = changes_for(connection.engine).begin(connection, topic, said, first=already is None)
    if already is None:
        pending[topic] = _Pending(ticket, said)
    else:
        already.ticket = ticket if ticket is not None else already.ticket
        already.subjects.extend(said)


def settle(connection: Connection, committed: bool) -> None:
    """Call after the transaction committed or rolled back; returns once every process will see the change."""
    pending: dict[Topic, _Pending] | None = connection.info.pop(_PENDING, None)
    if pending:
        changes_for(connection.engine).end(pending, committed)


_registry: weakref.WeakKeyDictionary[Engine, Changes] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def changes_for(engine: Engine) -> Changes:
    """The one change feed of an engine (made at first use)."""
    found = _registry.get(engine)
    if found is None:
        with _registry_lock:
            found = _registry.get(engine)
            if found is None:
                found = _registry[engine] = _build(engine)
    return found


def close_changes(engine: Engine) -> None:
    with _registry_lock:
        found = _registry.pop(engine, None)
    if found is not None:
        found.close()


def _build(engine: Engine) -> Changes:
    if engine.dialect.name == "postgresql":
        return NotifyChanges(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        return SharedCounters(engine, Path(database + "-generations"))
    return NoCaching()


class NoCaching:
    """For databases no other process can share (in-memory SQLite): nothing is cached, nothing to announce."""

    def generation(self, topic: Topic) -> int | None:  # noqa: ARG002 - the protocol's signature
        return None

    def begin(
        self,
        connection: Connection,  # noqa: ARG002 - the protocol's signature
        topic: Topic,  # noqa: ARG002
        subjects: Iterable[Subject] = (),  # noqa: ARG002
        first: bool = True,  # noqa: ARG002
    ) -> int | None:
        return None

    def token_position(self) -> int | None:
        return None

    def token_stable(self) -> int:
        return 0

    def token_changes(self, after: int) -> tuple[int, list[Change]] | None:  # noqa: ARG002
        return None

    def end(self, pending: dict[Topic, _Pending], committed: bool) -> None:
        pass

    def tidy(self) -> None:
        pass

    def close(self) -> None:
        pass


# Per topic: begun, done (unsigned 64-bit, little-endian), at a fixed offset in the file. After the first page, a
# ring of token changes: the slot of ticket n is n % _RING, holding (n, kind, length, value).
_PAIR = struct.Struct("<QQ")
_OFFSETS = {Topic.TOKENS: 0, Topic.BLOCKS: _PAIR.size}
_SLOT = struct.Struct("<QBB70s")
_RING = 8192
_RING_OFFSET = 4096
_FILE_SIZE = _RING_OFFSET + _RING * _SLOT.size
_KINDS = {KEY: 1, ACCOUNT: 2, EVERYTHING: 3}
_KIND_NAMES = {number: name for name, number in _KINDS.items()}


class SharedCounters:
    """SQLite: per-topic `begun`/`done` counters in a shared-memory file next to the database (see the module doc)."""

    def __init__(self, engine: Engine, path: Path) -> None:
        self._engine = engine
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            with _locked(fd):
                if os.fstat(fd).st_size < _FILE_SIZE:
                    os.ftruncate(fd, _FILE_SIZE)
            self._map = mmap.mmap(fd, _FILE_SIZE)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._stuck: dict[Topic, tuple[int, int]] = {}

    def generation(self, topic: Topic) -> int | None:
        begun, done = _PAIR.unpack_from(self._map, _OFFSETS[topic])
        return int(done) if begun == done else None

    def begin(
        self,
        connection: Connection,  # noqa: ARG002 - the lock is implied
        topic: Topic,
        subjects: Iterable[Subject] = (),
        first: bool = True,
    ) -> int | None:
        # The caller has just written in this transaction, so it holds SQLite's write lock: every earlier ticket's
        # transaction has ended, and `done` may catch up with `begun` before this transaction's first ticket.
        offset = _OFFSETS[topic]
        with _locked(self._fd):
            begun, _ = _PAIR.unpack_from(self._map, offset)
            if first:
                struct.pack_into("<Q", self._map, offset + 8, begun)  # done first: readers never see done > begun
            if topic != Topic.TOKENS:
                begun += 1
            for kind, value in (list(subjects) or [(EVERYTHING, "")]) if topic == Topic.TOKENS else ():
                begun += 1  # a ticket per subject, its slot written before `begun` shows it
                encoded = value.encode()
                code = _KINDS[kind] if len(encoded) <= 70 else _KINDS[EVERYTHING]
                _SLOT.pack_into(self._map, _slot(begun), begun, code, len(encoded), encoded)
            struct.pack_into("<Q", self._map, offset, begun)
        return int(begun)

    def token_position(self) -> int | None:
        begun: int = struct.unpack_from("<Q", self._map, 0)[0]
        return begun

    def token_stable(self) -> int:
        done: int = struct.unpack_from("<Q", self._map, 8)[0]
        return done

    def token_changes(self, after: int) -> tuple[int, list[Change]] | None:
        begun: int = struct.unpack_from("<Q", self._map, 0)[0]
        if begun - after > _RING or after > begun:
            return None  # overwritten since (or the file was made anew): start over
        found: list[Change] = []
        for ticket in range(after + 1, begun + 1):
            number, kind, length, value = _SLOT.unpack_from(self._map, _slot(ticket))
            if number != ticket:
                return None
            found.append((ticket, _KIND_NAMES.get(kind, EVERYTHING), value[:length].decode()))
        return begun, found

    def end(self, pending: dict[Topic, _Pending], committed: bool) -> None:  # noqa: ARG002 - same either way
        with _locked(self._fd):
            for topic, announced in pending.items():
                offset = _OFFSETS[topic]
                _, done = _PAIR.unpack_from(self._map, offset)
                if announced.ticket is not None and announced.ticket > done:
                    struct.pack_into("<Q", self._map, offset + 8, announced.ticket)

    def tidy(self) -> None:
        """Repair counters a killed writer left apart: seen apart twice in a row, fix them under the write lock."""
        for topic, offset in _OFFSETS.items():
            begun, done = _PAIR.unpack_from(self._map, offset)
            if begun == done:
                self._stuck.pop(topic, None)
                continue
            if self._stuck.get(topic) != (begun, done):
                self._stuck[topic] = (begun, done)
                continue
            # BEGIN IMMEDIATE takes the write lock: no writer is between its ticket and its commit meanwhile.
            with (
                self._engine.connect() as connection,
                connection.execution_options(**{WRITE_OPTION: True}).begin(),
                _locked(self._fd),
            ):
                begun, _ = _PAIR.unpack_from(self._map, offset)
                struct.pack_into("<Q", self._map, offset + 8, begun)
            log.warning("repaired the %s cache generation left open by a stopped process", topic.value)
            self._stuck.pop(topic, None)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


def _slot(ticket: int) -> int:
    return _RING_OFFSET + (ticket % _RING) * _SLOT.size


class _locked:
    """An exclusive flock on a descriptor for a few instructions (counter updates are rare and short)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def __enter__(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)


LEASE_SECONDS = 3.0  # how long a process may trust its caches after a renewal began
RENEW_SECONDS = 1.0  # how often the lease is renewed
_MARGIN = 0.25  # a process stops trusting this much before the database would say its lease ended
_WAIT_LIMIT = LEASE_SECONDS + 2.0  # a writer never waits longer than the longest lease (plus slack)
_CHANNELS = {Topic.TOKENS: "hostpanel_tokens", Topic.BLOCKS: "hostpanel_blocks"}
_TOPICS = {channel: topic for topic, channel in _CHANNELS.items()}
_BARRIER = "barrier:"
_WAKE = "hostpanel_node_"  # a channel per listening process, to wake it when it should stop
# Leases are measured on the database's clock (Unix seconds), the one clock every node shares.
_SEND_BARRIER = text(
    "SELECT pg_current_xact_id()::text::bigint, pg_notify(:channel, :prefix || pg_current_xact_id()::text)"
)
_COUNT_BEHIND = text(
    "SELECT count(*) FROM token_cache_nodes WHERE acked < :n AND lease_until > EXTRACT(EPOCH FROM clock_timestamp())"
)
_PRUNE = "DELETE FROM token_cache_nodes WHERE lease_until < EXTRACT(EPOCH FROM clock_timestamp()) - 3600"
_REGISTER = (
    "INSERT INTO token_cache_nodes (host, pid, started_at, lease_until, acked) VALUES (%s, %s, "
    "EXTRACT(EPOCH FROM clock_timestamp()), EXTRACT(EPOCH FROM clock_timestamp()) + %s, "
    "pg_current_xact_id()::text::bigint) RETURNING id"
)
_RENEW = "UPDATE token_cache_nodes SET lease_until = EXTRACT(EPOCH FROM clock_timestamp()) + %s WHERE id = %s"
_ACK = "UPDATE token_cache_nodes SET acked = greatest(acked, %s) WHERE id = %s"


class NotifyChanges:
    """PostgreSQL: NOTIFY in the changing transaction, a listener thread per process, acknowledged barriers."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._generations = dict.fromkeys(Topic, 0)
        self._token_log: deque[Change] = deque(maxlen=_RING)  # token changes heard, numbered by this process
        self._token_seq = 0
        self._trusted_until = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._node: int | None = None  # this process's row in token_cache_nodes while listening

    def generation(self, topic: Topic) -> int | None:
        if time.monotonic() < self._trusted_until:
            return self._generations[topic]
        if self._thread is None:
            self._start()
        return None

    def begin(
        self, connection: Connection, topic: Topic, subjects: Iterable[Subject] = (), first: bool = True
    ) -> int | None:
        if topic != Topic.TOKENS:
            if first:
                connection.execute(select(func.pg_notify(_CHANNELS[topic], "")))
            return None
        for kind, value in subjects:
            connection.execute(select(func.pg_notify(_CHANNELS[topic], f"{kind}:{value}")))
        return None

    def token_position(self) -> int | None:
        if time.monotonic() < self._trusted_until:
            return self._token_seq
        if self._thread is None:
            self._start()
        return None

    def token_stable(self) -> int:
        return self._token_seq

    def token_changes(self, after: int) -> tuple[int, list[Change]] | None:
        with self._lock:
            position, log = self._token_seq, self._token_log
            if position - after > len(log) or after > position:
                return None
            found = [change for change in reversed(log) if change[0] > after] if position > after else []
        found.reverse()
        return position, found

    def end(self, pending: dict[Topic, _Pending], committed: bool) -> None:
        if not committed:
            return
        self._bump(pending)  # this process at once, before its listener hears of it
        tokens = pending.get(Topic.TOKENS)
        if tokens is not None:
            self._heard(tokens.subjects)
            self._wait_for_everyone()

    def tidy(self) -> None:
        pass

    def close(self) -> None:
        """Stop listening and leave the table of nodes, so writers stop waiting for this process at once."""
        self._stop.set()
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        if self._node is not None:
            try:
                with self._engine.connect() as pooled:
                    connection = pooled.execution_options(isolation_level="AUTOCOMMIT")
                    connection.execute(select(func.pg_notify(f"{_WAKE}{self._node}", "")))
            except Exception:  # the listener also notices the stop within half a second
                log.debug("could not wake the cache listener", exc_info=True)
        thread.join(timeout=RENEW_SECONDS + 5)

    def _bump(self, topics: Iterable[Topic]) -> None:
        with self._lock:
            for topic in topics:
                self._generations[topic] += 1

    def _heard(self, subjects: Iterable[Subject]) -> None:
        with self._lock:
            for kind, value in subjects:
                self._token_seq += 1
                self._token_log.append((self._token_seq, kind, value))

    def _wait_for_everyone(self) -> None:
        """Send a barrier after the change committed; return once every live process has acknowledged it."""
        started = time.monotonic()
        try:
            with self._engine.connect() as pooled:
                connection = pooled.execution_options(isolation_level="AUTOCOMMIT")
                barrier = connection.execute(
                    _SEND_BARRIER, {"channel": _CHANNELS[Topic.TOKENS], "prefix": _BARRIER}
                ).scalar_one()
                pause = 0.0005
                while time.monotonic() - started < _WAIT_LIMIT:
                    behind = connection.execute(_COUNT_BEHIND, {"n": barrier}).scalar_one()
                    if not behind:
                        return
                    time.sleep(pause)
                    pause = min(pause * 2, 0.01)
            log.warning("a process did not acknowledge a token change in %.0f s; its lease has ended", _WAIT_LIMIT)
        except Exception:
            # The change is committed and its notification sent. Without acknowledgements, wait out the longest lease:
            # a process that has not heard of the change by then no longer trusts its cache.
            log.exception("could not wait for processes to acknowledge a token change; waiting out their leases")
            time.sleep(max(0.0, LEASE_SECONDS - (time.monotonic() - started)))

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._listen, name="cache-listener", daemon=True)
                self._thread.start()

    def _listen(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                self._serve()
                backoff = 0.1
            except Exception as error:
                self._trusted_until = 0.0
                log.warning("cache listener: %s; caches are off until it reconnects", type(error).__name__)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _serve(self) -> None:
        url = make_url(str(self._engine.url.render_as_string(hide_password=False))).set(drivername="postgresql")
        import psycopg  # noqa: PLC0415 - see the import above

        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as connection:
            for channel in _CHANNELS.values():
                connection.execute(f"LISTEN {channel}")
            node = self._register(connection)
            connection.execute(f"LISTEN {_WAKE}{node}")  # close() wakes this thread at once through it
            self._node = node
            try:
                self._trust(connection, node, lapsed=True)
                next_renewal = time.monotonic() + RENEW_SECONDS
                while not self._stop.is_set():
                    wait = max(0.0, next_renewal - time.monotonic())
                    acked = self._handle(connection.notifies(timeout=min(wait, 0.5), stop_after=1))
                    if acked is not None:
                        connection.execute(_ACK, (acked, node))
                    if time.monotonic() >= next_renewal:
                        self._trust(connection, node, lapsed=time.monotonic() >= self._trusted_until)
                        next_renewal = time.monotonic() + RENEW_SECONDS
            finally:
                self._trusted_until = 0.0
                if not connection.closed:
                    connection.execute("DELETE FROM token_cache_nodes WHERE id = %s", (node,))

    def _register(self, connection: psycopg.Connection[Any]) -> int:
        connection.execute(_PRUNE)
        row = connection.execute(_REGISTER, (socket.gethostname()[:200], os.getpid(), LEASE_SECONDS)).fetchone()
        assert row is not None
        return int(row[0])

    def _trust(self, connection: psycopg.Connection[Any], node: int, lapsed: bool) -> None:
        """Renew the lease; handle what arrived meanwhile; after a lapse forget everything; then trust anew."""
        started = time.monotonic()
        connection.execute(_RENEW, (LEASE_SECONDS, node))
        acked = self._handle(connection.notifies(timeout=0))
        if acked is not None:
            connection.execute(_ACK, (acked, node))
        if lapsed:
            self._bump(Topic)  # notifications may have been missed while the lease was lapsed
            self._heard([(EVERYTHING, "")])
        self._trusted_until = started + LEASE_SECONDS - _MARGIN

    def _handle(self, notifications: Iterable[psycopg.Notify]) -> int | None:
        """Move the generations of the notified topics; the highest barrier seen, to acknowledge."""
        barrier: int | None = None
        for notification in notifications:
            topic = _TOPICS.get(notification.channel)
            if topic is not None:
                self._bump((topic,))
            if topic == Topic.TOKENS and not notification.payload.startswith(_BARRIER):
                kind, _, value = notification.payload.partition(":")
                self._heard([(kind, value) if kind in (KEY, ACCOUNT) else (EVERYTHING, "")])
            if notification.payload.startswith(_BARRIER):
                number = int(notification.payload.removeprefix(_BARRIER))
                barrier = number if barrier is None else max(barrier, number)
        return barrier
