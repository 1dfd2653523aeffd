"""The administrator's command line: `hostpanel init|serve|demo|account|token|backup|audit|security|dns|import|
whmapi1|uapi`."""

from __future__ import annotations

import sys

import typer
from sqlalchemy.exc import OperationalError
from typer.exceptions import TyperException

from hostpanel import __version__
from hostpanel.cli import accounts, audit, autossl, backup, dns, imports, security, server, tokens, whm
from hostpanel.cli.common import CliError
from hostpanel.domain.errors import HostpanelError
from hostpanel.keys import KeyFileError
from hostpanel.storage.migrate import SchemaOutOfDate

app = typer.Typer(
    name="hostpanel",
    help="Administer hostpanel: accounts, API tokens, the activity log and the server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hostpanel {__version__}")
        raise typer.Exit


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Administer hostpanel: accounts, API tokens, the activity log and the server."""


server.register(app)
app.add_typer(accounts.app, name="account")
app.add_typer(tokens.app, name="token")
app.add_typer(backup.app, name="backup")
audit.register(app)
app.add_typer(security.app, name="security")
app.add_typer(dns.app, name="dns")
app.add_typer(imports.app, name="import")
app.add_typer(autossl.app, name="autossl")
whm.register(app)


def _fail(message: str, status: int = 1) -> None:
    print(f"hostpanel: error: {message}", file=sys.stderr)
    sys.exit(status)


def main() -> None:
    """Run the CLI; user mistakes end as one line on stderr and a non-zero status, never a traceback."""
    try:
        result = app(standalone_mode=False)
    except typer.Abort:
        _fail("aborted")
    except TyperException as error:  # usage errors and bad parameters
        message = error.format_message().replace("\n", " ").strip()
        if not message:  # `hostpanel` alone: the help was the answer
            sys.exit(error.exit_code)
        _fail(message, error.exit_code)
    except (CliError, KeyFileError, SchemaOutOfDate) as error:
        _fail(str(error))
    except HostpanelError as error:
        _fail(error.message)
    except OperationalError as error:
        _fail(f"cannot use the database: {str(error.orig).strip().splitlines()[0]}")
    sys.exit(result if isinstance(result, int) else 0)
