"""`hostpanel dns ...`: the accounts' DNS zones as the administrator sees them: list, add, remove, export, import.

Line numbers are the zone file's (`dns export`), from 1, as cPanel API 2 counts them. A change waits until the
nameserver serves it, as through the API; `--offline` changes the database alone (the nameserver serves it when it
next runs), for when the server is stopped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.table import Table

from hostpanel.cli.common import CliError, console, transaction
from hostpanel.domain.dns.records import Record
from hostpanel.domain.dns.service import DnsService
from hostpanel.domain.dns.zone import MAX_ZONE_TEXT, Zone
from hostpanel.domain.errors import NotFound
from hostpanel.domain.principal import Principal

app = typer.Typer(help="DNS zones of the accounts' domains.", no_args_is_help=True)
OFFLINE = typer.Option(False, "--offline", help="Change the database only: do not wait for the nameserver.")


@contextmanager
def _zone_service(name: str, offline: bool = False) -> Iterator[tuple[DnsService, str]]:
    """The DNS service acting as the administrator for the account whose domain the zone is, and the zone's name."""
    with transaction(write=False) as (built, uow):
        wanted = name.strip().lower().removesuffix(".")
        owner = uow.zones.owner(wanted)
        account = uow.accounts.get(owner) if owner is not None else None
        if account is None:
            raise NotFound(f"There is no DNS zone named “{name}”.")
        yield built.dns(Principal.admin(account), uow, offline=offline), wanted


def _records(zone: Zone) -> list[dict[str, object]]:
    return [
        {"line": line.index + 1, "name": line.record.name, "ttl": line.record.ttl, "type": line.record.type,
         "data": list(line.record.fields)}
        for line in zone.records()
    ]  # fmt: skip


@app.command("list")
def list_zones(
    zone: str | None = typer.Argument(None, help="A zone: list its records (default: list the zones)."),
    account: str | None = typer.Option(None, "--account", help="Only this account's zones."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List the zones (with their accounts and serials), or one zone's records with their lines."""
    if zone is not None:
        with _zone_service(zone) as (dns, name):
            records = _records(dns.zone(name))
        if as_json:
            typer.echo(json.dumps(records, indent=2))
            return
        table = Table("line", "name", "ttl", "type", "data")
        for item in records:
            table.add_row(str(item["line"]), str(item["name"]), str(item["ttl"]), str(item["type"]), _data(item))
        console.print(table)
        return
    with transaction(write=False) as (built, uow):
        accounts = [built.accounts(uow).get(account)] if account else built.accounts(uow).all()
        rows = []
        for owner in accounts:
            for name in uow.zones.names(owner.id):
                found = uow.zones.get(name)
                assert found is not None
                rows.append(
                    {"zone": name, "account": owner.username, "serial": found.serial, "records": len(found.entries) + 1}
                )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("zone", "account", "serial", "records")
    for row in rows:
        table.add_row(str(row["zone"]), str(row["account"]), str(row["serial"]), str(row["records"]))
    console.print(table)


def _data(item: dict[str, object]) -> str:
    fields = item["data"]
    assert isinstance(fields, list)
    return " ".join(json.dumps(field) if item["type"] == "TXT" else str(field) for field in fields)


@app.command("add")
def add(
    zone: str,
    name: str = typer.Argument(
        ..., help="The record's name: relative to the zone (`www`, `@`), or absolute with a dot."
    ),
    kind: str = typer.Argument(..., metavar="TYPE", help="A, AAAA, CAA, CNAME, MX, NS, SRV or TXT."),
    data: list[str] = typer.Argument(..., help="Its data fields, e.g. `10 mail` for an MX, each string of a TXT."),
    ttl: int = typer.Option(14400, "--ttl", min=1, help="Time to live, in seconds."),
    offline: bool = OFFLINE,
) -> None:
    """Add a record after the zone's last line."""
    with _zone_service(zone, offline) as (dns, name_of_zone):
        record = Record.parse(name_of_zone, name, ttl, kind, data)
        serial = dns.add(name_of_zone, record, allow_ns=True)
    console.print(f"Added {record.type} {record.name} to {name_of_zone} (serial {serial}).")


@app.command("remove")
def remove(
    zone: str,
    line: int = typer.Argument(..., min=1, help="The record's line (see `dns list ZONE`)."),
    offline: bool = OFFLINE,
) -> None:
    """Remove the record at a line; the lines after it move up."""
    with _zone_service(zone, offline) as (dns, name):
        serial = dns.remove(name, line - 1, allow_ns=True)
    console.print(f"Removed line {line} of {name} (serial {serial}).")


@app.command("export")
def export(zone: str) -> None:
    """Print the zone file (BIND syntax)."""
    with _zone_service(zone) as (dns, name):
        text = dns.zone(name).text()
    sys.stdout.write(text)


@app.command("import")
def import_zone(
    zone: str,
    path: str = typer.Argument(..., help="A zone file in BIND syntax (`-` for standard input)."),
    offline: bool = OFFLINE,
) -> None:
    """Replace every record of the zone but its SOA with those of a zone file (the serial moves on)."""
    text = sys.stdin.read(MAX_ZONE_TEXT + 1) if path == "-" else _read(Path(path))
    with _zone_service(zone, offline) as (dns, name):
        serial = dns.replace(name, text)
    console.print(f"Imported the records of {name} (serial {serial}).")


def _read(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.read(MAX_ZONE_TEXT + 1)
    except (OSError, UnicodeError) as error:
        raise CliError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
