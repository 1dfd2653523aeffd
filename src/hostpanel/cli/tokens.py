"""`hostpanel token ...`: create, list, rename, revoke, scan, review an account's API tokens as the administrator.

`--json` output is stable: `token create` prints one object (the record fields of `token list` plus `token`, the
secret, which appears nowhere else); `token list` prints an array of records.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.panel import Panel
from rich.table import Table

from hostpanel.cli.common import (
    CliError,
    console,
    find_account,
    format_time,
    parse_duration,
    parse_when,
    transaction,
)
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.permissions import Permissions, Scope
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens.leaks import Sighting, by_account
from hostpanel.domain.tokens.model import ApiToken, IssuedToken, TokenQuery, parse_grace_period
from hostpanel.domain.tokens.record import describe_lifecycle, token_record
from hostpanel.domain.tokens.restrictions import CHALLENGE_NAME, Restrictions
from hostpanel.domain.tokens.review import ReviewPolicy, flags, is_unused

app = typer.Typer(help="API tokens of an account.", no_args_is_help=True)


@app.command("create")
def create(
    username: str,
    name: str = typer.Argument(..., help="1-50 characters from a-z A-Z 0-9 _ -, unique in the account."),
    expires: str | None = typer.Option(
        None,
        "--expires",
        help="A date (2027-01-31: end of that day), a date-time, a duration (30d, 12h, 2w) or Unix seconds.",
    ),
    scope: list[str] = typer.Option(
        [], "--scope", help="Limit the token to a scope, e.g. tokens:read (repeatable); default: full access."
    ),
    rate_limit: int | None = typer.Option(
        None, "--rate-limit", min=0, help="Requests per rate window (default: the server's; 0: unlimited)."
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
    dns_name: list[str] = typer.Option(
        [], "--dns-name", help="Restrict DNS changes to records of this name relative to the zone (repeatable)."
    ),
    dns_type: list[str] = typer.Option([], "--dns-type", help="Restrict DNS changes to this record type (repeatable)."),
    challenges: bool = typer.Option(
        False, "--acme-challenges", help="Only certificate challenges: --dns-name _acme-challenge --dns-type TXT."
    ),
    max_uses: int | None = typer.Option(
        None, "--max-uses", min=1, help="How many requests the token may make in all (1: one-shot); default: no limit."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (includes the secret)."),
) -> None:
    """Create a token; its secret is printed once and can never be shown again."""
    permissions = Permissions.of([Scope.parse(text) for text in scope]) if scope else Permissions.full()
    if challenges:
        dns_name, dns_type = [*dns_name, CHALLENGE_NAME], [*dns_type, "TXT"]
    restrictions = Restrictions.parse(
        fileman_paths=path,
        email_domains=mail_domain,
        whitelist_ips=allow_ip,
        read_only=read_only,
        dns_names=dns_name,
        dns_types=dns_type,
    )
    with transaction() as (built, uow):
        now = built.clock.now()
        expires_at = parse_when(expires, now, future=True) if expires else None
        account = find_account(built, uow, username)
        issued = built.tokens(uow).create(
            Principal.admin(account),
            name,
            expires_at,
            permissions,
            restrictions,
            rate_limit=rate_limit,
            max_uses=max_uses,
        )
        uow.commit()
        review = built.review_policy
    _show_secret(issued, username, now, review, as_json, f"API token “{name}” for {username}")


def _show_secret(
    issued: IssuedToken, username: str, now: float, review: ReviewPolicy, as_json: bool, title: str
) -> None:
    record = {**token_record(issued.token, now, review), "token": issued.secret}
    if as_json:
        typer.echo(json.dumps(record, indent=2))
        return
    console.print(
        Panel(
            f"[bold]{issued.secret}[/bold]\n\nCopy it now: it is shown only this once and cannot be recovered.\n"
            f"Use it as:  Authorization: cpanel {username}:<token>",
            title=title,
            expand=False,
        )
    )


@app.command("rotate")
def rotate(
    username: str,
    name: str,
    grace: str = typer.Option(
        "24h",
        "--grace",
        help="How long the old secret keeps working: seconds or a duration (0, 90m, 24h, 7d; at most 7 days).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (includes the new secret)."),
) -> None:
    """Give a token a new secret (printed once); the old one works for the grace period, then stops."""
    grace_period = parse_grace_period(parse_duration(grace, "--grace"))
    with transaction() as (built, uow):
        account = find_account(built, uow, username)
        issued = built.tokens(uow).rotate(Principal.admin(account), name, grace_period)
        uow.commit()
        now, review = built.clock.now(), built.review_policy
    _show_secret(issued, username, now, review, as_json, f"API token “{name}” of {username}, rotated")
    if not as_json:
        previous = issued.token.previous_valid(now)
        until = f"until {format_time(previous.valid_until)}" if previous else "no longer (refused at once)"
        console.print(f"The old secret works {until}.")


@app.command("list")
def list_tokens(username: str, as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List an account's tokens, expired ones included (never their secrets)."""
    with transaction(write=False) as (built, uow):
        account = find_account(built, uow, username)
        tokens, _ = built.tokens(uow).page(account.id, TokenQuery())
        now = built.clock.now()
        review = built.review_policy
    if as_json:
        typer.echo(json.dumps([token_record(token, now, review) for token in tokens], indent=2))
        return
    console.print(_table(tokens, now))


def _table(tokens: list[ApiToken], now: float) -> Table:
    table = Table(
        "name", "status", "created", "expires", "last used", "from", "permissions", "restrictions", "lifecycle"
    )
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
            "; ".join(describe_lifecycle(token, now)) or "-",
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


@app.command("scan")
def scan(
    paths: list[str] = typer.Argument(..., help="Files to search (`-` for standard input)."),
    revoke: bool = typer.Option(False, "--revoke", help="Revoke every live token found, and mail its owner."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per token found."),
) -> None:
    """Find hostpanel tokens in files (checksums checked offline) and say which are live; never prints a secret."""
    texts = [(path, _read_text(path)) for path in paths]
    with transaction() as (built, uow):
        leaks = built.leaks(uow)
        found = [(path, sighting) for path, text in texts for sighting in leaks.scan(text)]
        places = {id(sighting): path for path, sighting in found}
        revoked = set()
        for sighting in by_account([sighting for _, sighting in found]) if revoke else []:
            path = places[id(sighting)]
            source = f"found by a scan of {'standard input' if path == '-' else path} line {sighting.line}"
            if leaks.revoke(sighting, source, "admin"):
                revoked.add(id(sighting))
        uow.commit()
    for path, sighting in found:
        _report_sighting(path, sighting, id(sighting) in revoked, as_json)
    live = sum(1 for _, sighting in found if sighting.live)
    if not as_json:
        done = f", {len(revoked)} revoked" if revoke else " (use --revoke to revoke them)"
        typer.echo(f"{len(found)} token(s) found, {live} live{done if live else ''}.")


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None


def _report_sighting(path: str, sighting: Sighting, revoked: bool, as_json: bool) -> None:
    token, account = sighting.token, sighting.account
    if as_json:
        record: dict[str, Any] = {
            "path": path,
            "line": sighting.line,
            "token": sighting.masked,
            "live": sighting.live,
            "account": account.username if account else None,
            "name": token.name if token else None,
            "last_used": token.last_used_at if token else None,
            "last_used_ip": token.last_used_ip if token else None,
            "revoked": revoked,
        }
        typer.echo(json.dumps(record))
        return
    where = f"{path}:{sighting.line}: {sighting.masked}"
    if token is None or account is None:
        typer.echo(f"{where} not a live token (never issued here, or already revoked)")
        return
    used = format_time(token.last_used_at) if token.last_used_at else "never"
    state = "revoked" if revoked else "LIVE"
    # Plain lines, never wrapped: people grep this output.
    typer.echo(f"{where} {state}: account {account.username}, token “{token.name}”, last used {used}")


@app.command("review")
def review(
    username: str | None = typer.Argument(None, help="Only this account's tokens (default: every account)."),
    unused_days: int | None = typer.Option(
        None, "--unused-days", min=1, help="Flag tokens unused this long (default HOSTPANEL_REVIEW_UNUSED_DAYS)."
    ),
    revoke_unused: int | None = typer.Option(
        None, "--revoke-unused", min=1, metavar="DAYS", help="Revoke tokens unused for DAYS days, after a confirmation."
    ),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Review tokens: expired, expiring soon, unused, never used, full access; optionally revoke the unused."""
    with transaction(write=False) as (built, uow):
        account_id = find_account(built, uow, username).id if username else None
        rows = uow.tokens.all_with_accounts(account_id)
        now = built.clock.now()
        policy = built.review_policy
    if unused_days is not None:
        policy = ReviewPolicy(unused_days, policy.expiring_days)
    if revoke_unused is not None:
        _revoke_unused([(t, a) for t, a in rows if is_unused(t, now, revoke_unused)], revoke_unused, yes)
        return
    if as_json:
        records = [{"account": a.username, **token_record(t, now, policy)} for t, a in rows]
        typer.echo(json.dumps(records, indent=2))
        return
    table = Table("account", "token", "created", "expires", "last used", "flags")
    for token, account in rows:
        marks = flags(token, now, policy)
        table.add_row(
            account.username,
            token.name,
            format_time(token.created_at),
            format_time(token.expires_at),
            format_time(token.last_used_at) if token.last_used_at else "never",
            ", ".join(mark.value for mark in marks) or "ok",
        )
    console.print(table)
    flagged = sum(1 for token, _ in rows if flags(token, now, policy))
    console.print(f"{len(rows)} token(s), {flagged} flagged.")


def _revoke_unused(rows: list[tuple[ApiToken, Account]], days: int, yes: bool) -> None:
    if not rows:
        console.print(f"No token has gone unused for {days} days.")
        return
    names = ", ".join(f"{account.username}/{token.name}" for token, account in rows)
    if not yes:
        typer.confirm(f"Revoke {len(rows)} token(s) unused for {days} days: {names}?", abort=True)
    revoked = 0
    with transaction() as (built, uow):
        for token, account in rows:
            revoked += built.tokens(uow).revoke(Principal.admin(account), token.name)
        uow.commit()
    console.print(f"Revoked {revoked} token(s) unused for {days} days.")


@app.command("remind-expiring")
def remind_expiring(
    days: int | None = typer.Option(
        None, "--days", min=1, help="Tokens expiring within this many days (default HOSTPANEL_EXPIRY_NOTICE_DAYS)."
    ),
) -> None:
    """Mail owners about their tokens that expire soon (each token once); the server also does this periodically."""
    with transaction() as (built, uow):
        told = built.expiry_notices(uow).send(days or built.settings.expiry_notice_days)
        uow.commit()
    for username, names in told.items():
        console.print(f"{username}: {', '.join(names)}")
    console.print(f"{sum(len(names) for names in told.values())} token(s) noticed to {len(told)} account(s).")
