"""`hostpanel import cpanel-tokens PATH…`: bring a cPanel server's API tokens over, so its customers' scripts keep
working with their 32-character tokens.

Every entry is reported: imported (or, with `--dry-run`, would be) or skipped with its reason. The import is one
transaction: if anything fails, nothing is imported.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hostpanel.cli.common import CliError, console, transaction
from hostpanel.domain.tokens.importer import ImportPlan, StoreFile, TokenImport, store_service

app = typer.Typer(help="Import data from another panel.", no_args_is_help=True)

MAX_STORE_BYTES = 16 * 1024 * 1024  # a cPanel token store is a few KB; anything this large is not one


@app.command("cpanel-tokens")
def cpanel_tokens(
    paths: list[Path] = typer.Argument(
        ...,
        help="cPanel token stores: /var/cpanel/authn/api_tokens_v2/cpanel/<user>.json (cPanel tokens) and "
        "…/whostmgr/<user>.json (WHM tokens of root and resellers); the file name names the account.",
    ),
    rename: list[str] = typer.Option(
        [], "--map", help="old=new: import the store of cPanel user `old` into the account `new` (repeatable)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would be imported and skipped; change nothing."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable report."),
) -> None:
    """Import cPanel API tokens: name, creation time, expiry, IP allowlist, features or full access, WHM ACLs."""
    mapping = _mapping(rename)
    stores = [_read(path) for path in paths]
    with transaction() as (built, uow):
        importer = TokenImport(uow, built.keys.keyring, built.clock, built.audit(uow))
        plan = importer.plan(stores, mapping)
        if not dry_run:
            importer.apply(plan, actor="admin:import")
            uow.commit()
    _report(plan, dry_run, as_json)


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise CliError(f"--map: “{pair}” is not old=new.")
        mapping[old.strip()] = new.strip()
    return mapping


def _read(path: Path) -> StoreFile:
    service = store_service(path.absolute().parts)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_STORE_BYTES + 1)
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None
    if len(data) > MAX_STORE_BYTES:
        raise CliError(f"{path} is larger than a token store can be ({MAX_STORE_BYTES} bytes).")
    # Bad UTF-8 is reported as bad JSON for that store, like any other unreadable content.
    return StoreFile(str(path), path.stem, service, data.decode("utf-8", errors="replace"))


def _report(plan: ImportPlan, dry_run: bool, as_json: bool) -> None:
    verb = "would import" if dry_run else "imported"
    if as_json:
        report = {
            "dry_run": dry_run,
            "imported" if not dry_run else "would_import": [
                {"source": p.source, "account": p.account.username, "service": p.service.value, "name": p.name}
                for p in plan.planned
            ],
            "skipped": [
                {"source": s.source, "account": s.username, "name": s.name, "reason": s.reason} for s in plan.skipped
            ],
        }
        typer.echo(json.dumps(report, indent=2))
        return
    for planned in plan.planned:
        console.print(f"{verb}: {planned.account.username} ({planned.service.value}) “{planned.name}”")
    for skipped in plan.skipped:
        what = f"“{skipped.name}”" if skipped.name is not None else "the whole store"
        console.print(f"skipped: {skipped.username} {what} from {skipped.source}: {skipped.reason}")
    console.print(f"{len(plan.planned)} token(s) {verb}, {len(plan.skipped)} skipped.")
