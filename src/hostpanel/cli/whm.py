"""`hostpanel whmapi1 FUNCTION key=value...` (as root) and `hostpanel uapi --user USER Module function key=value...`
(as the account): cPanel's command-line callers, printing the same JSON the APIs answer (or YAML)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import typer
import yaml

from hostpanel.cli.common import CliError, container


class Output(StrEnum):
    """How the answer is printed."""

    JSON = "json"
    YAML = "yaml"


def register(app: typer.Typer) -> None:
    app.command("whmapi1")(whmapi1)
    app.command("uapi")(uapi)


def _pairs(arguments: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for argument in arguments:
        key, equals, value = argument.partition("=")
        if not equals or not key:
            raise CliError(f"“{argument}” is not a key=value argument.")
        pairs.append((key, value))
    return pairs


def _print(body: dict[str, Any], output: Output) -> None:
    if output == Output.YAML:
        typer.echo(yaml.safe_dump(body, sort_keys=False, allow_unicode=True), nl=False)
    else:
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))


def whmapi1(
    function: str = typer.Argument(..., help="A WHM API 1 function, e.g. createacct, api_token_create."),
    arguments: list[str] = typer.Argument(None, help="Its arguments as key=value (repeat a key for several values)."),
    output: Output = typer.Option(Output.JSON, "--output", help="json or yaml."),
) -> None:
    """Call a WHM API 1 function as root, on the server itself, and print its answer (exit 1 if it failed)."""
    with container() as built:
        from hostpanel.app import LocalCalls  # noqa: PLC0415 - the server's modules, only for this command

        body = LocalCalls(built).whmapi1(function, _pairs(arguments or []))
    _print(body, output)
    if (body.get("metadata") or {}).get("result") != 1:
        raise typer.Exit(1)


def uapi(
    module: str = typer.Argument(..., help="A UAPI module, e.g. Email."),
    function: str = typer.Argument(..., help="Its function, e.g. list_pops."),
    arguments: list[str] = typer.Argument(None, help="Its arguments as key=value."),
    user: str = typer.Option(..., "--user", help="The account to act as."),
    output: Output = typer.Option(Output.JSON, "--output", help="json or yaml."),
) -> None:
    """Call a UAPI function as an account, on the server itself, and print its answer (exit 1 if it failed)."""
    with container() as built:
        from hostpanel.app import LocalCalls  # noqa: PLC0415 - the server's modules, only for this command

        body = LocalCalls(built).uapi(user, module, function, _pairs(arguments or []))
    _print(body, output)
    if body.get("status") != 1:
        raise typer.Exit(1)
