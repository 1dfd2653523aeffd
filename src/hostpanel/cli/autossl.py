"""`hostpanel autossl run [--account NAME]`: AutoSSL now, for every active account or one: each site without a
certificate, or within 30 days of its expiry, gets one from the ACME directory (`HOSTPANEL_ACME_DIRECTORY`)."""

from __future__ import annotations

import json

import typer

from hostpanel.cli.common import CliError, console, container, find_account
from hostpanel.domain.certificates.autossl import run_accounts

app = typer.Typer(help="Automatic certificates (AutoSSL) for the accounts' sites.", no_args_is_help=True)


@app.command("run")
def run(
    account: str | None = typer.Option(None, "--account", help="Only this account."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output: one line per domain."),
) -> None:
    """Obtain or renew the certificates that need it now; a domain's failure is reported and recorded, the others
    go on. Exits 1 if any domain failed."""
    with container() as built:
        built.forget_orphan_certificates()
        with built.read() as uow:
            accounts = [find_account(built, uow, account)] if account else built.accounts(uow).all()
        results = run_accounts(accounts, built.autossl)
    failed = False
    for username, outcomes in results.items():
        for outcome in outcomes:
            failed = failed or outcome.result == "failed"
            if as_json:
                print(json.dumps({"account": username, "domain": outcome.domain, "result": outcome.result,
                                  "error": outcome.error}))  # fmt: skip
            else:
                reason = f": {outcome.error}" if outcome.error else ""
                console.print(f"{username} {outcome.domain}: {outcome.result}{reason}")
    if failed:
        raise CliError("AutoSSL could not get a certificate for every domain (see above).")
