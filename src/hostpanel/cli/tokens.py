"""`hostpanel token ...`: create, list, rename, revoke an account's API tokens as the administrator.

`--json` output is stable: `token create` prints one object (the record fields of `token list` plus `token`, the
secret, which appears nowhere else); `token list` prints an array of records.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.panel import Panel
from rich.table import Table

from hostpanel.cli.common import CliError, console, find_account, format_time, parse_when, transaction
from hostpanel.domain.permissions import Permissions, Scope
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens.model import ApiToken, TokenQuery
from hostpanel.domain.tokens.restrictions import Restrictions
from hostpanel.modules.tokens.uapi import token_record

app = typer.Typer(help="API tokens of an account.", no_args_is_help=True)


@app.command("create")
def create(
    username: str,
    name: str = typer.Argument(..., help="1-50 characters from a-z A-Z 0-9 _ -, unique in the account."),
    expires: str | None = typer.Option(
        None, "--expires", help="A date (2027-01-31: end of that day), a date-time, or a duration (30d, 12h, 2w)."
    ),
    scope: list[str] = typer.Option(
        [], "--scope", help="Limit the token to a scope, e.g. tokens:read (repeatable); default: full access."
    ),
    path: list[str] = typer.Option(
        [], "--path", help="Restrict Fileman to this folder of the home, e.g. public_html/app (repeatable)."
    ),
    mail_domain: list[str] = typer.Option(
        [], "--mail-domain", help="Restrict Email functions to this domain of the account (repeatable)."
    ),
    allow_ip: list[str] = typer.Option(
        [], "--allow-ip", help="Accept the token only from this address or CIDR range, IPv4 or IPv6 (repeatable)."
    ),
    read_only: bool = typer.Option(False, "--read-only", help="Refuse every function that needs a :write scope."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (includes the secret)."),
) -> None:
    """Create a token; its secret is printed once and can never be shown again."""
    permissions = Permissions.of([Scope.parse(text) for text in scope]) if scope else Permissions.full()
    restrictions = Restrictions.parse(
        fileman_paths=path, email_domains=mail_domain, whitelist_ips=allow_ip, read_only=read_only
    )
    with transaction() as (built, uow):
        now = built.clock.now()
        expires_at = parse_when(expires, now, future=True) if expires else None
        account = find_account(built, uow, username)
        issued = built.tokens(uow).create(Principal.admin(account), name, expires_at, permissions, restrictions)
        uow.commit()
    record = {**token_record(issued.token, now), "token": issued.secret}
    if as_json:
        typer.echo(json.dumps(record, indent=2))
        return
    console.print(
        Panel(
            f"[bold]{issued.secret}[/bold]\n\nCopy it now: it is shown only this once and cannot be recovered.\n"
            f"Use it as:  Authorization: cpanel {username}:<token>",
            title=f"API token “{name}” for {username}",
            expand=False,
        )
    )


@app.command("list")
def list_tokens(username: str, as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List an account's tokens, expired ones included (never their secrets)."""
    with transaction(write=False) as (built, uow):
        account = find_account(built, uow, username)
        tokens, _ = built.tokens(uow).page(account.id, TokenQuery())
        now = built.clock.now()
    if as_json:
        typer.echo(json.dumps([token_record(token, now) for token in tokens], indent=2))
        return
    console.print(_table(tokens, now))


def _table(tokens: list[ApiToken], now: float) -> Table:
    table = Table("name", "status", "created", "expires", "last used", "from", "permissions", "restrictions")
    for token in tokens:
        record: dict[str, Any] = token_record(token, now)
        table.add_row(
            token.name,
            "[red]expired[/red]" if record["expired"] else "active",
            format_time(token.created_at),
            format_time(token.expires_at),
            format_time(token.last_used_at) if token.last_used_at else "never",
            token.last_used_ip or "-",
            "full access" if token.permissions.full_access else " ".join(token.permissions.scope_names()),
            " ".join(token.restrictions.describe()) or "-",
        )
    return table


@app.command("rename")
def rename(username: str, old: str, new: str) -> None:
    """Rename a token."""
    with transaction() as (built, uow):
        account = find_account(built, uow, username)
        built.tokens(uow).rename(Principal.admin(account), old, new)
        uow.commit()
    console.print(f"Token “{old}” of {username} renamed to “{new}”.")


@app.command("revoke")
def revoke(username: str, name: str) -> None:
    """Revoke (delete) a token: it is refused from the next request on."""
    with transaction() as (built, uow):
        account = find_account(built, uow, username)
        revoked = built.tokens(uow).revoke(Principal.admin(account), name)
        uow.commit()
    if not revoked:
        raise CliError(f"The API token “{name}” does not exist.")
    console.print(f"Token “{name}” of {username} revoked.")
