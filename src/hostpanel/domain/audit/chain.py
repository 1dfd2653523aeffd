"""The audit trail's hash chain: each event carries SHA-256 of its content and of the previous event of its account.

Changing, removing or reordering a stored event breaks the chain at that point, so `first_break` finds tampering
done directly in the database (past the append-only triggers). Chain 0 holds the events of no account (blocked
addresses, say). A truncated tail is caught against the chain head, the stored copy of the newest hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64
NO_ACCOUNT_CHAIN = 0


def chain_of(account_id: int | None) -> int:
    return NO_ACCOUNT_CHAIN if account_id is None else account_id


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored, with the exact text of its details (what the hash covers)."""

    id: int
    time: float
    account_id: int | None
    username: str | None
    actor: str
    ip: str | None
    action: str
    target: str | None
    outcome: str
    details: str
    prev_hash: str | None
    hash: str | None


def event_hash(
    prev_hash: str,
    *,
    time: float,
    account_id: int | None,
    username: str | None,
    actor: str,
    ip: str | None,
    action: str,
    target: str | None,
    outcome: str,
    details: str,
) -> str:
    # JSON of a fixed list: unambiguous field boundaries, and floats written as their exact shortest repr.
    fields = [prev_hash, time, account_id, username, actor, ip, action, target, outcome, details]
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def stored_hash(prev_hash: str, event: StoredEvent) -> str:
    return event_hash(
        prev_hash,
        time=event.time,
        account_id=event.account_id,
        username=event.username,
        actor=event.actor,
        ip=event.ip,
        action=event.action,
        target=event.target,
        outcome=event.outcome,
        details=event.details,
    )


@dataclass(frozen=True)
class ChainBreak:
    """Where an audit chain first fails to verify, and why (`event_id` None: its newest events are gone)."""

    chain: int
    event_id: int | None
    reason: str


def first_break(chain: int, events: Iterable[StoredEvent], head_hash: str | None) -> tuple[int, ChainBreak | None]:
    """Walk one chain in id order: (events checked, the first broken link or None)."""
    previous, count = GENESIS, 0
    for event in events:
        count += 1
        if event.prev_hash != previous:
            return count, ChainBreak(
                chain, event.id, "it does not link to the event before it (an event was removed, inserted or reordered)"
            )
        if event.hash != stored_hash(previous, event):
            return count, ChainBreak(chain, event.id, "its content does not match its hash (the event was changed)")
        previous = event.hash
    if head_hash is not None and head_hash != previous:
        return count, ChainBreak(chain, None, "the chain ends before its recorded head (newest events were removed)")
    return count, None
