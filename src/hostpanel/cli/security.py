"""`hostpanel security ...`: blocked addresses and accounts, unblocking, trusted networks, owner notices."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.table import Table

from hostpanel.cli.common import console, container, format_time, transaction
from hostpanel.domain.security.lockout import LoginGuard

app = typer.Typer(help="Brute-force protection and notices: blocks, trusted networks.", no_args_is_help=True)


@contextmanager
def login_guard() -> Iterator[LoginGuard]:
    with container() as built:
        yield built.login_guard


@app.command("blocked")
def blocked(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the addresses and accounts refused right now, and until when."""
    with login_guard() as guard:
        blocks = guard.blocks()
    if as_json:
        records = [
            {"kind": b.kind.value, "subject": b.subject, "until": int(b.until), "lockouts": b.lockouts} for b in blocks
        ]
        typer.echo(json.dumps(records, indent=2))
        return
    if not blocks:
        console.print("Nothing is blocked.")
        return
    table = Table("kind", "address or account", "blocked since", "until", "lockouts today")
    for block in blocks:
        table.add_row(
            block.kind.value,
            block.subject,
            format_time(block.blocked_at),
            format_time(block.until),
            str(block.lockouts),
        )
    console.print(table)


@app.command("unblock")
def unblock(subject: str = typer.Argument(..., help="An IP address (or a listed IPv6 /64), or a username.")) -> None:
    """Lift the block on an address (password and token failures) or an account, and reset its counters."""
    with login_guard() as guard:
        cleared = guard.unblock(subject)
    if cleared:
        console.print(f"Unblocked {subject} ({', '.join(cleared)}).")
    else:
        console.print(f"{subject} was not blocked and had no failures counted.")


@app.command("trusted")
def trusted(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the trusted networks: their logins are never counted or blocked."""
    with login_guard() as guard:
        networks = guard.trusted()
    if as_json:
        typer.echo(json.dumps([{"network": network, "note": note} for network, note in networks], indent=2))
        return
    table = Table("network", "note")
    for network, note in networks:
        table.add_row(network, note)
    console.print(table)


@app.command("trust")
def trust(
    network: str = typer.Argument(..., help="An IP address or a CIDR range, e.g. 203.0.113.0/24."),
    note: str = typer.Option("", "--note", help="Why it is trusted."),
) -> None:
    """Trust a network: failed logins from it are never counted, and blocks never refuse it."""
    with login_guard() as guard:
        canonical = guard.trust(network, note)
    console.print(f"Trusted {canonical}.")


@app.command("distrust")
def distrust(network: str = typer.Argument(..., help="A network listed by `security trusted`.")) -> None:
    """Stop trusting a network."""
    with login_guard() as guard:
        removed = guard.distrust(network)
    console.print(f"No longer trusting {network}." if removed else f"{network} was not trusted.")


@app.command("notify")
def notify(
    username: str,
    new_ip: bool = typer.Option(
        ..., "--new-ip/--no-new-ip", help="Mail the owner when a token is used from a new address."
    ),
) -> None:
    """Choose which optional notices an account's owner receives (leak and expiry notices always go out)."""
    with transaction() as (built, uow):
        account = built.accounts(uow).get(username)
        uow.accounts.set_notify_new_ip(account.id, new_ip)
        uow.commit()
    state = "on" if new_ip else "off"
    console.print(f"New-address notices for {username}: {state}.")
