"""Login failure counters, blocks and request rate counts in Redis, shared by every app process.

Every key starts with the configured prefix, so several installations (or test runs) can share one Redis.
"""

from __future__ import annotations

import functools
import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

import redis

from hostpanel.domain.errors import Unavailable, WouldBlock
from hostpanel.domain.security.lockout import Block

P = ParamSpec("P")
R = TypeVar("R")

_KEEP_BLOCKS = 2 * 86400  # seconds a block's record outlives it: a repeat offence within a day locks out longer


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)


def _unavailable_on_error(method: Callable[P, R]) -> Callable[P, R]:
    """Redis down is a temporary refusal (503), not an internal error; the client reconnects by itself."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except redis.RedisError as error:
            raise Unavailable(f"Redis cannot be reached ({type(error).__name__}).") from None

    return wrapper


class RedisFailureStore:
    """Failures: a sorted set of times per key. Blocks: a hash per key, and one sorted set indexing them by end."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._r = client
        self._prefix = prefix

    def _failures(self, key: str) -> str:
        return f"{self._prefix}fail:{key}"

    def _block(self, key: str) -> str:
        return f"{self._prefix}block:{key}"

    @property
    def _index(self) -> str:
        return f"{self._prefix}blocks"

    def blocked_until_in_memory(self, keys: Sequence[str], now: float) -> float | None:  # noqa: ARG002
        raise WouldBlock  # every answer is a Redis read

    @_unavailable_on_error
    def blocked_until(self, keys: Sequence[str], now: float) -> float | None:
        if not keys:
            return None
        scores: list[Any] = self._r.zmscore(self._index, list(keys))
        active = [float(score) for score in scores if score is not None and float(score) > now]
        return max(active) if active else None

    @_unavailable_on_error
    def add_failure(self, key: str, at: float, horizon: float) -> list[float]:
        name = self._failures(key)
        member = f"{at!r}:{secrets.token_hex(4)}"  # unique, so simultaneous failures all count
        pipe = self._r.pipeline(transaction=True)
        pipe.zremrangebyscore(name, "-inf", at - horizon)
        pipe.zadd(name, {member: at})
        pipe.expire(name, math.ceil(horizon) + 1)
        pipe.zrange(name, 0, -1, withscores=True)
        results = pipe.execute()
        return [float(score) for _, score in results[-1]]

    @_unavailable_on_error
    def get_block(self, key: str) -> Block | None:
        fields: dict[str, str] = self._r.hgetall(self._block(key))  # type: ignore[assignment]
        if not fields:
            return None
        return Block(key, float(fields["until"]), int(fields["lockouts"]), float(fields["blocked_at"]))

    @_unavailable_on_error
    def put_block(self, block: Block) -> None:
        values: Mapping[Any, Any] = {
            "until": repr(block.until),
            "lockouts": block.lockouts,
            "blocked_at": repr(block.blocked_at),
        }
        pipe = self._r.pipeline(transaction=True)
        pipe.hset(self._block(block.key), mapping=values)
        pipe.expire(self._block(block.key), math.ceil(block.until - block.blocked_at) + _KEEP_BLOCKS)
        pipe.zadd(self._index, {block.key: block.until})
        pipe.zremrangebyscore(self._index, "-inf", block.blocked_at - _KEEP_BLOCKS)
        pipe.execute()

    @_unavailable_on_error
    def blocks(self, now: float) -> list[Block]:
        keys: list[str] = self._r.zrangebyscore(self._index, f"({now!r}", "+inf")  # type: ignore[assignment]
        found = [self.get_block(key) for key in keys]
        return [block for block in found if block is not None and block.until > now]

    @_unavailable_on_error
    def clear(self, key: str) -> bool:
        pipe = self._r.pipeline(transaction=True)
        pipe.zscore(self._index, key)
        pipe.zrem(self._index, key)
        pipe.delete(self._block(key), self._failures(key))
        score, _, deleted = pipe.execute()
        return bool(deleted) or score is not None


class RedisRateCounter:
    """Request counts in Redis, one key per window that expires with it, shared by every process."""

    in_memory = False

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._r = client
        self._prefix = prefix

    @_unavailable_on_error
    def increment(self, key: str, window_start: int, window: int) -> int:
        name = f"{self._prefix}rate:{key}:{window_start}"
        pipe = self._r.pipeline(transaction=True)
        pipe.incr(name)
        pipe.expire(name, window + 1)
        count, _ = pipe.execute()
        return int(count)
