"""`hostpanel account ...`: create, list, passwd, suspend, unsuspend, delete, features, add-domain."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from hostpanel.cli.common import console, format_time, read_password, transaction
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.permissions import FEATURE_DESCRIPTIONS, Feature

app = typer.Typer(help="Hosting accounts.", no_args_is_help=True)


@app.command("create")
def create(
    username: str = typer.Argument(..., help="Lowercase letters and digits, starting with a letter, at most 16."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    email: str | None = typer.Option(None, "--email", help="Contact address for notifications."),
    domain: list[str] = typer.Option([], "--domain", help="A domain of the account (repeatable)."),
) -> None:
    """Create an account with its home directory."""
    password = read_password(password_stdin)
    with transaction() as (built, uow):
        account = built.accounts(uow).create(username, password, email, tuple(domain))
        uow.commit()
        home = built.homes.path_for(account.username)
    console.print(f"Created account [bold]{account.username}[/bold] (home {home}).")


@app.command("list")
def list_accounts(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List accounts."""
    with transaction(write=False) as (built, uow):
        service = built.accounts(uow)
        rows = [(account, service.domains(account)) for account in service.all()]
    if as_json:
        typer.echo(json.dumps([_record(account, domains) for account, domains in rows], indent=2))
        return
    table = Table("username", "status", "email", "domains", "created", "features off")
    for account, domains in rows:
        table.add_row(
            account.username,
            account.status.value,
            account.email or "",
            ", ".join(domains),
            format_time(account.created_at),
            ", ".join(sorted(account.disabled_features)) or "-",
        )
    console.print(table)


def _record(account: Account, domains: list[str]) -> dict[str, object]:
    """The stable `--json` shape of an account."""
    return {
        "username": account.username,
        "status": account.status.value,
        "email": account.email,
        "domains": domains,
        "created_at": account.created_at,
        "disabled_features": sorted(account.disabled_features),
    }


@app.command("passwd")
def passwd(
    username: str,
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set an account's password."""
    password = read_password(password_stdin, "New password")
    with transaction() as (built, uow):
        built.accounts(uow).set_password(username, password)
        uow.commit()
    console.print(f"Password of [bold]{username}[/bold] changed.")


@app.command("suspend")
def suspend(username: str) -> None:
    """Suspend an account: its tokens are refused until it is unsuspended."""
    with transaction() as (built, uow):
        built.accounts(uow).set_suspended(username, True)
        uow.commit()
    console.print(f"Account [bold]{username}[/bold] suspended.")


@app.command("unsuspend")
def unsuspend(username: str) -> None:
    """Lift an account's suspension."""
    with transaction() as (built, uow):
        built.accounts(uow).set_suspended(username, False)
        uow.commit()
    console.print(f"Account [bold]{username}[/bold] unsuspended.")


@app.command("delete")
def delete(username: str, yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Delete an account, its tokens, domains and home directory (its activity log is kept)."""
    if not yes:
        typer.confirm(f"Delete account {username}, its tokens and all its files?", abort=True)
    with transaction() as (built, uow):
        built.accounts(uow).delete(username)
        uow.commit()
    console.print(f"Account [bold]{username}[/bold] deleted.")


@app.command("features")
def features(
    username: str,
    disable: list[str] = typer.Option([], "--disable", help="Switch a feature off (repeatable)."),
    enable: list[str] = typer.Option([], "--enable", help="Switch a feature back on (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show or change which features an account has; tokens can never do what the account cannot."""
    with transaction() as (built, uow):
        service = built.accounts(uow)
        account = service.set_features(username, disable, enable) if disable or enable else service.get(username)
        uow.commit()
    state = {feature.value: feature.value not in account.disabled_features for feature in Feature}
    if as_json:
        typer.echo(json.dumps(state, indent=2))
        return
    table = Table("feature", "state", "what it covers")
    for feature in Feature:
        table.add_row(feature.value, "on" if state[feature.value] else "off", FEATURE_DESCRIPTIONS[feature])
    console.print(table)


@app.command("add-domain")
def add_domain(username: str, domain: str) -> None:
    """Attach another domain to an account."""
    with transaction() as (built, uow):
        built.accounts(uow).add_domain(username, domain)
        uow.commit()
    console.print(f"Domain [bold]{domain.lower()}[/bold] added to {username}.")
