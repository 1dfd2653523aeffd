"""`hostpanel audit [USER]`: the activity log, newest first; `audit verify` checks its hash chains; `audit export`."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import typer
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from hostpanel.cli.common import CliError, console, find_account, format_time, parse_when, transaction
from hostpanel.domain.audit.chain import first_break
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.audit.search import Activity


class _ShowByDefault(TyperGroup):
    """`hostpanel audit [USER] [options]` means `hostpanel audit show ...`; `verify` and `export` are subcommands.

    (An account named `verify` or `export` is reached as `hostpanel audit show verify`.)"""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_ShowByDefault,
    help="The activity log: `audit [USER]` shows it (its options: `audit show --help`); `verify`; `export`.",
)


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="audit")


@app.command("show")
def audit(
    username: str | None = typer.Argument(None, help="Only this account's events (default: all)."),
    since: str | None = typer.Option(None, "--since", help="A date, a date-time or a duration back (24h, 7d)."),
    action: list[str] = typer.Option([], "--action", help="Only this action (repeatable), e.g. account:token:create."),
    limit: int = typer.Option(100, "--limit", min=1, max=100_000, help="How many events at most."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines, one event per line."),
) -> None:
    """Show the activity log: logins, token use and changes, denials and failures."""
    with transaction(write=False) as (built, uow):
        account = uow.accounts.get_by_username(username) if username else None
        start = parse_when(since, built.clock.now(), future=False) if since else None
        query = AuditQuery(
            account_id=account.id if account else None,
            username=username if username and account is None else None,  # a deleted account's history
            since=start,
            actions=tuple(action),
            limit=limit,
        )
        events = Activity(uow, built.read).page(query)
    if as_json:
        for event in events:
            typer.echo(json.dumps(asdict(event), sort_keys=True))
        return
    table = Table("time", "account", "actor", "ip", "action", "target", "outcome", "details")
    for event in events:
        # Text, not markup: usernames, targets and details of failed API calls are whatever a caller sent.
        table.add_row(
            *(
                Text(cell)
                for cell in (
                    format_time(event.time),
                    event.username or "-",
                    event.actor,
                    event.ip or "-",
                    event.action.value,
                    event.target or "-",
                    event.outcome.value,
                    json.dumps(event.details, sort_keys=True) if event.details else "",
                )
            )
        )
    console.print(table)


@app.command("verify")
def verify(
    username: str | None = typer.Argument(None, help="Only this account's chain (default: every chain)."),
) -> None:
    """Check the hash chains: report the first broken link of each chain (exit status 1 if any)."""
    with transaction(write=False) as (built, uow):
        heads = uow.audit.chains()
        if username:
            account_id = find_account(built, uow, username).id
            heads = {chain: head for chain, head in heads.items() if chain == account_id}
        checked, breaks = 0, []
        for chain, head in sorted(heads.items()):
            count, broken = first_break(chain, uow.audit.chain_events(chain), head)
            checked += count
            if broken is not None:
                breaks.append(broken)
    for broken in breaks:
        who = "events of no account" if broken.chain == 0 else f"account id {broken.chain}"
        where = f"event {broken.event_id}" if broken.event_id is not None else "the end of the chain"
        console.print(f"BROKEN: chain of {who}, at {where}: {broken.reason}")
    if breaks:
        raise CliError(f"the audit trail has been tampered with: {len(breaks)} broken chain(s) of {len(heads)}")
    console.print(f"OK: {checked} events in {len(heads)} chain(s), every link intact.")


@app.command("export")
def export(
    username: str | None = typer.Argument(None, help="Only this account's events (default: all)."),
    after_id: int = typer.Option(0, "--after-id", min=0, help="Only events after this id (for incremental copies)."),
) -> None:
    """Export events as JSON lines, oldest first, with their hashes (to archive or to check elsewhere)."""
    with transaction(write=False) as (built, uow):
        account_id = find_account(built, uow, username).id if username else None
        for event in uow.audit.export(account_id, after_id):
            record = asdict(event)
            record["details"] = json.loads(event.details)
            typer.echo(json.dumps(record, sort_keys=True, ensure_ascii=False))
