"""API tokens: lookup by public key, pages for review, batched "last used" writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, case, delete, func, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.errors import Conflict
from hostpanel.domain.permissions import Permissions, Scope
from hostpanel.domain.tokens.model import ApiToken, PreviousSecret, TokenOrder, TokenQuery
from hostpanel.domain.tokens.restrictions import NO_RESTRICTIONS, Restrictions
from hostpanel.storage.changes import Subject, Topic, account, mark_changed, token_key
from hostpanel.storage.prepared import Prepared
from hostpanel.storage.repositories.accounts import ACCOUNT_COLUMNS, account_from_row
from hostpanel.storage.repositories.errors import is_unique_violation
from hostpanel.storage.tables import accounts, api_tokens, token_addresses, token_usage_daily

TOKEN_COLUMNS = tuple(api_tokens.c)
_ACCOUNT = "account__"  # label prefix of the account's columns in the joined lookup


@lru_cache(maxsize=4096)
def permissions_from(full_access: bool, scopes: str) -> Permissions:
    """A token's stored scopes, parsed once per distinct text (most tokens share a few)."""
    return Permissions.full() if full_access else Permissions.of([Scope.parse(text) for text in scopes.split()])


@lru_cache(maxsize=4096)
def restrictions_from(text: str) -> Restrictions:
    """A token's stored restrictions, parsed once per distinct text (records are immutable, so shared)."""
    return Restrictions.from_json(text)


def _token_from_row(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        key=row.key,
        digest=bytes(row.digest),
        pepper_id=row.pepper_id,
        permissions=permissions_from(bool(row.full_access), row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        last_used_ip=row.last_used_ip,
        rate_limit=row.rate_limit,
        restrictions=restrictions_from(row.restrictions),
        service=Service(row.service),
        acls=frozenset(json.loads(row.acls)) if row.acls is not None else None,
        previous=_previous_from_row(row),
        rotated_at=row.rotated_at,
        max_uses=row.max_uses,
        uses=row.uses,
        imported=bool(row.imported),
    )


def _previous_from_row(row: Any) -> PreviousSecret | None:
    if row.prev_digest is None or row.prev_valid_until is None:
        return None
    return PreviousSecret(bytes(row.prev_digest), row.prev_pepper_id, row.prev_valid_until, row.prev_last_used_at)


class SqlTokenRepository:
    """The API token repository on a database connection (see `ports.TokenRepository`)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(
        self,
        *,
        account_id: int,
        name: str,
        key: str,
        digest: bytes,
        pepper_id: int,
        permissions: Permissions,
        created_at: int,
        expires_at: int | None,
        rate_limit: int | None = None,
        restrictions: Restrictions = NO_RESTRICTIONS,
        service: Service = Service.CPANEL,
        acls: frozenset[str] | None = None,
        max_uses: int | None = None,
        imported: bool = False,
    ) -> ApiToken:
        statement = (
            insert(api_tokens)
            .values(
                account_id=account_id,
                name=name,
                key=key,
                digest=digest,
                pepper_id=pepper_id,
                full_access=permissions.full_access,
                scopes=" ".join(permissions.scope_names()),
                created_at=created_at,
                expires_at=expires_at,
                rate_limit=rate_limit,
                restrictions=restrictions.to_json(),
                service=service.value,
                acls=json.dumps(sorted(acls)) if acls is not None else None,
                max_uses=max_uses,
                imported=imported,
            )
            .returning(*TOKEN_COLUMNS)
        )
        try:
            added = _token_from_row(self._c.execute(statement).one())
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict(f"A conflicting API token with the name “{name}” already exists.") from None
            raise
        mark_changed(self._c, Topic.TOKENS, token_key(key))  # every process must know the key exists
        return added

    def get_by_name(self, account_id: int, name: str, service: Service = Service.CPANEL) -> ApiToken | None:
        query = select(*TOKEN_COLUMNS).where(
            api_tokens.c.account_id == account_id, api_tokens.c.service == service.value, api_tokens.c.name == name
        )
        row = self._c.execute(query).first()
        return _token_from_row(row) if row else None

    def find_by_key(self, key: str) -> tuple[ApiToken, Account] | None:
        found = self._with_accounts(api_tokens.c.key == key)
        return found[0] if found else None

    def all_with_accounts(self, account_id: int | None = None) -> list[tuple[ApiToken, Account]]:
        where = api_tokens.c.account_id == account_id if account_id is not None else true()
        return self._with_accounts(where, order=(accounts.c.username, api_tokens.c.name))

    def expiring_unnoticed(self, before: int, now: int) -> list[tuple[ApiToken, Account]]:
        c = api_tokens.c
        where = c.expires_at.is_not(None) & (c.expires_at > now) & (c.expires_at <= before)
        return self._with_accounts(where & c.expiry_notified_at.is_(None), order=(accounts.c.username, c.name))

    def mark_expiry_noticed(self, token_id: int, at: int) -> None:
        self._c.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(expiry_notified_at=at))

    def _with_accounts(
        self, where: ColumnElement[bool], order: tuple[ColumnElement[Any], ...] = ()
    ) -> list[tuple[ApiToken, Account]]:
        query = (
            select(*TOKEN_COLUMNS, *(column.label(f"{_ACCOUNT}{column.name}") for column in ACCOUNT_COLUMNS))
            .join(accounts, accounts.c.id == api_tokens.c.account_id)
            .where(where)
            .order_by(*order)
        )
        return [
            (_token_from_row(row), account_from_row(_Prefixed(row._mapping, _ACCOUNT)))
            for row in self._c.execute(query)
        ]

    def update(
        self, token_id: int, *, expires_at: int | None, restrictions: Restrictions, acls: frozenset[str] | None
    ) -> None:
        """Replace a token's expiry, restrictions and ACLs (WHM's api_token_update)."""
        values = {
            "expires_at": expires_at,
            "restrictions": restrictions.to_json(),
            "acls": json.dumps(sorted(acls)) if acls is not None else None,
            "expiry_notified_at": None,
        }
        statement = update(api_tokens).where(api_tokens.c.id == token_id).values(**values)
        mark_changed(self._c, Topic.TOKENS, *_keys(self._c.execute(statement.returning(api_tokens.c.key))))

    def rotate(self, token_id: int, *, digest: bytes, pepper_id: int, previous: PreviousSecret | None, at: int) -> None:
        """Replace the token's secret; the one it had becomes `previous` (None: refused at once), and any older one
        is forgotten. Every process hears of it before this returns (cached lookups hold the old digests)."""
        values = {
            "digest": digest,
            "pepper_id": pepper_id,
            "prev_digest": previous.digest if previous else None,
            "prev_pepper_id": previous.pepper_id if previous else None,
            "prev_valid_until": previous.valid_until if previous else None,
            "prev_last_used_at": None,
            "rotated_at": at,
        }
        statement = update(api_tokens).where(api_tokens.c.id == token_id).values(**values)
        mark_changed(self._c, Topic.TOKENS, *_keys(self._c.execute(statement.returning(api_tokens.c.key))))

    def end_grace(self, token_id: int) -> bool:
        """Refuse the token's previous secret from now on; False when it had none."""
        c = api_tokens.c
        statement = (
            update(api_tokens)
            .where(c.id == token_id, c.prev_digest.is_not(None))
            .values(prev_digest=None, prev_pepper_id=None, prev_valid_until=None)
            .returning(c.key)
        )
        keys = _keys(self._c.execute(statement))
        if keys:  # nothing changed otherwise: no cache need drop anything
            mark_changed(self._c, Topic.TOKENS, *keys)
        return bool(keys)

    def consume_use(self, token_id: int) -> int | None:
        """Count one use of a use-limited token, exactly under concurrency (one conditional UPDATE, atomic in both
        databases): the number of uses now, or None when the limit was already reached (or the token is gone)."""
        c = api_tokens.c
        statement = (
            update(api_tokens)
            .where(c.id == token_id, c.max_uses.is_not(None), c.uses < c.max_uses)
            .values(uses=c.uses + 1)
            .returning(c.uses)
        )
        row = self._c.execute(statement).first()
        return int(row.uses) if row is not None else None

    def rename(self, token_id: int, new_name: str) -> None:
        try:
            statement = update(api_tokens).where(api_tokens.c.id == token_id).values(name=new_name)
            mark_changed(self._c, Topic.TOKENS, *_keys(self._c.execute(statement.returning(api_tokens.c.key))))
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict(f"An API token with the name “{new_name}” already exists.") from None
            raise

    def delete(self, token_id: int) -> bool:
        self._c.execute(delete(token_addresses).where(token_addresses.c.token_id == token_id))
        self._c.execute(delete(token_usage_daily).where(token_usage_daily.c.token_id == token_id))
        statement = delete(api_tokens).where(api_tokens.c.id == token_id).returning(api_tokens.c.key)
        keys = _keys(self._c.execute(statement))
        mark_changed(self._c, Topic.TOKENS, *keys)
        return bool(keys)

    def page(self, account_id: int, query: TokenQuery) -> tuple[list[ApiToken], int]:
        if query == _WHOLE_LIST:
            rows = _BY_NAME.rows(self._c, {"account_id": account_id, "service": query.service.value})
            tokens = [_token_from_row(row) for row in rows]
            return tokens, len(tokens)
        where = (api_tokens.c.account_id == account_id) & (api_tokens.c.service == query.service.value)
        if query.name_contains:
            pattern = "%" + _escape_like(query.name_contains.lower()) + "%"
            where = where & func.lower(api_tokens.c.name).like(pattern, escape="\\")
        # Ties keep name order in both directions, as a stable sort of the name-ordered list does.
        first = _ORDER_COLUMNS[query.order]
        if query.order in (TokenOrder.NAME, TokenOrder.CREATED):
            order = [first.desc() if query.descending else first, api_tokens.c.name]
        else:  # never expiring / never used: last either way, as "no date" is neither early nor late
            order = [(first.desc() if query.descending else first.asc()).nulls_last(), api_tokens.c.name]
        statement = select(*TOKEN_COLUMNS).where(where).order_by(*order).offset(query.offset)
        if query.limit is not None:
            statement = statement.limit(query.limit)
        tokens = [_token_from_row(row) for row in self._c.execute(statement)]
        if query.offset == 0 and query.limit is None:
            return tokens, len(tokens)  # the whole list: its length is the count, one statement fewer
        total = self._c.execute(select(func.count()).select_from(api_tokens).where(where)).scalar_one()
        return tokens, total

    def page_after(
        self, account_id: int, after: str | None, limit: int, service: Service = Service.CPANEL
    ) -> list[ApiToken]:
        where = (api_tokens.c.account_id == account_id) & (api_tokens.c.service == service.value)
        if after is not None:
            where = where & (api_tokens.c.name > after)
        statement = select(*TOKEN_COLUMNS).where(where).order_by(api_tokens.c.name).limit(limit)
        return [_token_from_row(row) for row in self._c.execute(statement)]

    def record_use(self, token_id: int, at: int, ip: str | None) -> bool:
        newer = (api_tokens.c.last_used_at.is_(None)) | (api_tokens.c.last_used_at <= at)
        statement = (
            update(api_tokens)
            .where(api_tokens.c.id == token_id)
            .values(
                last_used_at=case((newer, at), else_=api_tokens.c.last_used_at),
                last_used_ip=case((newer, ip), else_=api_tokens.c.last_used_ip),
            )
        )
        return self._c.execute(statement).rowcount > 0

    def remember_ip(self, token_id: int, ip: str, at: int) -> bool:
        values = {"token_id": token_id, "ip": ip, "first_seen": at}
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(token_addresses)
            .values(values)
            .on_conflict_do_nothing()
            .returning(token_addresses.c.token_id)
        )
        # RETURNING, not rowcount: drivers disagree on rowcount for INSERT ... ON CONFLICT.
        return self._c.execute(statement).first() is not None

    def record_old_secret_use(self, token_id: int, at: int) -> None:
        c = api_tokens.c
        newer = c.prev_last_used_at.is_(None) | (c.prev_last_used_at < at)
        self._c.execute(
            update(api_tokens).where(c.id == token_id, c.prev_digest.is_not(None), newer).values(prev_last_used_at=at)
        )

    def add_calls(self, token_id: int, calls: dict[tuple[int, str], int]) -> None:
        if not calls:
            return
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        rows = [{"token_id": token_id, "day": day, "module": module, "calls": n} for (day, module), n in calls.items()]
        statement = dialect.insert(token_usage_daily)
        statement = statement.on_conflict_do_update(
            index_elements=["token_id", "day", "module"],
            set_={"calls": token_usage_daily.c.calls + statement.excluded.calls},
        )
        self._c.execute(statement, rows)

    def address_seen(self, token_id: int, seen: dict[str, int]) -> None:
        c = token_addresses.c
        for ip, at in sorted(seen.items()):
            newer = c.last_seen.is_(None) | (c.last_seen < at)
            self._c.execute(
                update(token_addresses).where(c.token_id == token_id, c.ip == ip, newer).values(last_seen=at)
            )

    def trim_calls(self, before_day: int) -> int:
        return self._c.execute(delete(token_usage_daily).where(token_usage_daily.c.day < before_day)).rowcount

    def calls(self, token_ids: list[int], since_day: int) -> dict[int, list[tuple[int, str, int]]]:
        found: dict[int, list[tuple[int, str, int]]] = {token_id: [] for token_id in token_ids}
        if not token_ids:
            return found
        for token_id, day, module, calls in _CALLS.rows(self._c, {"ids": token_ids, "since": since_day}):
            found[token_id].append((day, module, calls))
        return found

    def recent_addresses(self, token_ids: list[int], limit: int) -> dict[int, list[tuple[str, int, int]]]:
        """Per token, the `limit` addresses used last: (address, first seen, last seen), newest first."""
        found: dict[int, list[tuple[str, int, int]]] = {token_id: [] for token_id in token_ids}
        if not token_ids:
            return found
        for token_id, ip, first_seen, last_seen in _RECENT.rows(self._c, {"ids": token_ids, "limit": limit}):
            found[token_id].append((ip, first_seen, last_seen))
        return found

    def delete_all(self, account_id: int, service: Service | None = Service.CPANEL) -> list[str]:
        where = api_tokens.c.account_id == account_id
        condition = where if service is None else where & (api_tokens.c.service == service.value)
        return self._delete_where(account_id, condition)

    def delete_expired(self, account_id: int, now: int, service: Service = Service.CPANEL) -> list[str]:
        return self._delete_where(
            account_id,
            (api_tokens.c.account_id == account_id)
            & (api_tokens.c.service == service.value)
            & api_tokens.c.expires_at.is_not(None)
            & (api_tokens.c.expires_at <= now),
        )

    def _delete_where(self, account_id: int, condition: ColumnElement[bool]) -> list[str]:
        """Delete the account's tokens matching `condition`: the account's cached tokens are dropped everywhere."""
        ids = select(api_tokens.c.id).where(condition).scalar_subquery()
        self._c.execute(delete(token_addresses).where(token_addresses.c.token_id.in_(ids)))
        self._c.execute(delete(token_usage_daily).where(token_usage_daily.c.token_id.in_(ids)))
        names = sorted(self._c.execute(delete(api_tokens).where(condition).returning(api_tokens.c.name)).scalars())
        mark_changed(self._c, Topic.TOKENS, account(account_id))
        return names

    def all_keys(self) -> Iterator[str]:
        """Every token's lookup key, streamed: what each process loads to know which keys exist. Read straight from
        the driver (a server-side cursor on PostgreSQL): for a million keys the SQL layer's rows took longer than
        the read."""
        driver: Any = self._c.connection.driver_connection
        cursor = driver.cursor(name="hostpanel_all_keys") if self._c.dialect.name == "postgresql" else driver.cursor()
        try:
            cursor.execute(_ALL_KEYS)
            while batch := cursor.fetchmany(50_000):
                for (key,) in batch:
                    yield key
        finally:
            cursor.close()


def _recent_addresses() -> Select[Any]:
    c = token_addresses.c
    last = func.coalesce(c.last_seen, c.first_seen)
    ranked = (
        select(
            c.token_id,
            c.ip,
            c.first_seen,
            last.label("last_seen"),
            func.row_number().over(partition_by=c.token_id, order_by=(last.desc(), c.ip)).label("rank"),
        )
        .where(c.token_id.in_(bindparam("ids", expanding=True)))
        .subquery()
    )
    columns = (ranked.c.token_id, ranked.c.ip, ranked.c.first_seen, ranked.c.last_seen)
    return select(*columns).where(ranked.c.rank <= bindparam("limit")).order_by(ranked.c.token_id, ranked.c.rank)


# The statements every token list runs, compiled once: building and executing them through the SQL layer cost ten
# times what the database takes to answer them.
_WHOLE_LIST = TokenQuery()
_BY_NAME = Prepared(
    select(*TOKEN_COLUMNS)
    .where(api_tokens.c.account_id == bindparam("account_id"), api_tokens.c.service == bindparam("service"))
    .order_by(api_tokens.c.name)
)
_CALLS = Prepared(
    select(token_usage_daily.c.token_id, token_usage_daily.c.day, token_usage_daily.c.module, token_usage_daily.c.calls)
    .where(
        token_usage_daily.c.token_id.in_(bindparam("ids", expanding=True)),
        token_usage_daily.c.day >= bindparam("since"),
    )
    .order_by(token_usage_daily.c.token_id, token_usage_daily.c.day, token_usage_daily.c.module)
)
_RECENT = Prepared(_recent_addresses())
_ALL_KEYS = f"SELECT {api_tokens.c.key.name} FROM {api_tokens.name}"  # noqa: S608 - fixed text

_ORDER_COLUMNS = {
    TokenOrder.NAME: api_tokens.c.name,
    TokenOrder.CREATED: api_tokens.c.created_at,
    TokenOrder.EXPIRES: api_tokens.c.expires_at,
    TokenOrder.LAST_USED: api_tokens.c.last_used_at,
}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _keys(result: Any) -> list[Subject]:
    return [token_key(key) for (key,) in result]


class _Prefixed:
    """Attribute access to the prefixed account columns of a joined row."""

    def __init__(self, fields: Any, prefix: str) -> None:
        self._fields = fields
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return self._fields[self._prefix + name]
