"""`hostpanel backup create|list|restore USER`: the API's backup jobs, run in the foreground with a progress bar."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from hostpanel.cli.common import CliError, console, container, find_account, format_time
from hostpanel.domain.backups import model
from hostpanel.domain.backups.record import entry_record
from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.files.paths import HomePath
from hostpanel.domain.principal import Principal
from hostpanel.domain.sizes import human_size

app = typer.Typer(help="Full backups of an account into its home, and restores from them.", no_args_is_help=True)
progress_console = Console(stderr=True, highlight=False)  # stdout stays clean for --json


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=progress_console,
        transient=True,
    )


@app.command("create")
def create(
    username: str,
    skip_homedir: bool = typer.Option(False, "--skip-homedir", help="Only the metadata, not the home's files."),
    as_json: bool = typer.Option(False, "--json", help="Print the finished job as JSON."),
    email: str | None = typer.Option(None, "--email", help="Mail a notice to this address when the backup ends."),
) -> None:
    """Back up an account into its home (backup-M.D.YYYY_HH-MM-SS_USER.tar.gz), showing progress."""
    with container() as built:
        with built.uow() as uow:
            account = find_account(built, uow, username)
            service = built.backups(Principal.admin(account), uow)
            prepared = service.start(include_home=not skip_homedir, notify=email)
            uow.commit()
        with _bar() as bar:
            task = bar.add_task(f"Backing up {username}", total=None)

            def show(progress: model.Progress) -> None:
                done = f"{progress.files_done}/{progress.files_total} files"
                bar.update(task, completed=progress.bytes_done, total=progress.bytes_total or None, description=done)

            try:
                job = built.backup_runner.run(prepared, show=show)
            except KeyboardInterrupt:
                raise CliError("interrupted: the backup was stopped and its partial archive removed") from None
        if job.status != model.BackupStatus.COMPLETE:
            raise CliError(f"the backup failed: {job.error}")
        if as_json:
            typer.echo(json.dumps({"file": job.file, "size": job.size, "id": job.id}, indent=2))
            return
        where = built.homes.path_for(username) / job.file
        console.print(f"Backup of [bold]{username}[/bold] written to {where} ({human_size(job.size or 0)}).")


@app.command("list")
def list_backups(username: str, as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List an account's backups: jobs (running, complete, failed) and archives found in its home."""
    with container() as built, built.uow(write=False) as uow:
        account = find_account(built, uow, username)
        entries = built.backups(Principal.admin(account), uow).overview()
    records = [entry_record(entry) for entry in entries]
    if as_json:
        typer.echo(json.dumps(records, indent=2))
        return
    table = Table("file", "status", "started", "size", "in home", "error")
    for record in records:
        table.add_row(
            record["file"],
            record["status"],
            format_time(record["time"]),
            human_size(record["size"]) if record["size"] is not None else "-",
            "yes" if record["exists"] else "no",
            record["error"] or "",
        )
    console.print(table)


@app.command("restore")
def restore(
    username: str,
    backup: str = typer.Argument(..., help="The archive's name in the home (see `hostpanel backup list`)."),
    path: str | None = typer.Option(None, "--path", help="Only this file or folder (relative to the home)."),
) -> None:
    """Restore an account's files from one of its backups, after checking the whole archive against its manifest."""
    with container() as built, built.uow(write=False) as uow:  # a long restore must not hold the write lock
        account = find_account(built, uow, username)
        service = built.backups(Principal.admin(account), uow)
        try:
            size = built.home_jail(username).lstat(HomePath((backup,))).st_size
        except HostpanelError:
            size = 0  # the service says below what is wrong with the name
        with _bar() as bar:
            task = bar.add_task(f"Checking and restoring {backup}", total=size or None)
            summary = service.restore(backup, path, lambda count: bar.advance(task, count))
    console.print(
        f"Restored {summary.files} file(s), {summary.directories} folder(s) and {summary.links} link(s) "
        f"({human_size(summary.bytes)}) into {username}'s home."
    )
    for conflict in summary.conflicts:
        console.print(f"[yellow]left as it is:[/yellow] {conflict}")
    for zone in summary.zones:
        console.print(f"Put back the DNS zone {zone}.")
    for skipped in summary.zones_skipped:
        console.print(f"[yellow]DNS zone left as it is:[/yellow] {skipped}")
