"""Telling an account's owner about events on their tokens, by mail to the account's contact address.

Notices never carry a secret: a token is named by its name, never by its value.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Protocol

from hostpanel.domain.accounts.model import Account

log = logging.getLogger(__name__)


class Notifier(Protocol):
    """Sends a notice to an address: by SMTP, or only to the log when no SMTP server is configured."""

    def send(self, to: str, subject: str, body: str) -> None:
        """Deliver one message or raise."""
        ...


@dataclass(frozen=True)
class Notice:
    """A message to an account's owner: subject and body, never a secret."""

    subject: str
    body: str


def _when(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def leaked_token_revoked(account: Account, token_name: str, source: str) -> Notice:
    return Notice(
        f"API token “{token_name}” was revoked because it leaked",
        f"Hello {account.username},\n\nYour API token “{token_name}” was found where others can read it "
        f"({source}), so it has been revoked: requests made with it are now refused.\n\n"
        "Create a new token for whatever used it, keep it out of code and shared files, and review your account's "
        "activity log for requests you do not recognise.\n",
    )


def leaked_old_secret_refused(account: Account, token_name: str, source: str) -> Notice:
    return Notice(
        f"The old secret of API token “{token_name}” was refused because it leaked",
        f"Hello {account.username},\n\nThe previous secret of your API token “{token_name}”, which was still accepted "
        f"after its rotation, was found where others can read it ({source}), so its grace period has ended: requests "
        "made with it are now refused. The token's current secret keeps working.\n\nMove any script still using "
        "the old secret to the new one, and review your account's activity log for requests you do not recognise.\n",
    )


def tokens_revoked_by_administrator(account: Account, token_names: list[str], by: str) -> Notice:
    names = ", ".join(f"“{name}”" for name in token_names)
    noun = "token was" if len(token_names) == 1 else "tokens were"
    return Notice(
        f"{len(token_names)} API {noun} revoked by your hosting administrator",
        f"Hello {account.username},\n\nYour hosting administrator ({by}) revoked these API tokens: {names}. "
        "Requests made with them are now refused.\n\nIf a script of yours used one, create a new token for it once "
        "you know why it was revoked, and review your account's activity log for requests you do not recognise.\n",
    )


def tokens_expiring(account: Account, tokens: list[tuple[str, int]]) -> Notice:
    lines = "\n".join(f"  - {name}: expires {_when(expires_at)}" for name, expires_at in tokens)
    noun = "token expires" if len(tokens) == 1 else "tokens expire"
    return Notice(
        f"{len(tokens)} API {noun} soon",
        f"Hello {account.username},\n\nThese API tokens stop working soon:\n{lines}\n\n"
        "Create replacements before then, and revoke the old ones once nothing uses them.\n",
    )


def token_used_from_new_address(account: Account, token_name: str, ip: str, at: float) -> Notice:
    return Notice(
        f"API token “{token_name}” was used from a new address",
        f"Hello {account.username},\n\nYour API token “{token_name}” was used from {ip} at {_when(at)}, an address "
        "it had not been used from before.\n\nIf that was not you or one of your scripts, revoke the token now.\n",
    )


def deliver(notifier: Notifier, account: Account, notice: Notice, to: str | None = None) -> bool:
    """Send to `to`, by default the account's contact address; False (and a log line) when there is no address or
    delivery fails."""
    address = to or account.email
    if not address:
        log.info("no notice sent to %s: the account has no contact address", account.username)
        return False
    try:
        notifier.send(address, notice.subject, notice.body)
    except Exception as error:  # a notice must never break the action that caused it
        log.warning("notice to %s not delivered: %s", account.username, type(error).__name__)
        return False
    return True
