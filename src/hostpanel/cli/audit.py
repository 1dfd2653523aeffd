"""`hostpanel audit [USER]`: the activity log, newest first."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.table import Table
from rich.text import Text

from hostpanel.cli.common import CliError, console, format_time, parse_when, transaction
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.audit.tags import AuditAction


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    username: str | None = typer.Argument(None, help="Only this account's events (default: all)."),
    since: str | None = typer.Option(None, "--since", help="A date, a date-time or a duration back (24h, 7d)."),
    action: list[str] = typer.Option([], "--action", help="Only this action (repeatable), e.g. account:token:create."),
    limit: int = typer.Option(100, "--limit", min=1, max=100_000, help="How many events at most."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines, one event per line."),
) -> None:
    """Show the activity log: logins, token use and changes, denials and failures."""
    known = {item.value for item in AuditAction}
    for name in action:
        if name not in known:
            raise CliError(f"“{name}” is not an audit action. Known actions: {', '.join(sorted(known))}.")
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
        events = uow.audit.query(query)
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
