"""What every command shares: the container, one-line errors, time parsing."""

from __future__ import annotations

import datetime
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.ports import UnitOfWork

console = Console(highlight=False)
# ASCII digits, and few enough that int() accepts them and the result fits a SQL BIGINT.
_DURATION = re.compile(r"([0-9]{1,12})\s*([smhdw])")
_EPOCH = re.compile(r"[0-9]{1,17}")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class CliError(Exception):
    """A user mistake or an unmet precondition: one line on stderr, exit status 1."""


@contextmanager
def container() -> Iterator[Container]:
    """A container whose keys and schema are known to be ready (else a one-line error with the fix), closed after."""
    built = Container(Settings())
    try:
        built.check_ready()
        yield built
    finally:
        built.close()


@contextmanager
def transaction(write: bool = True) -> Iterator[tuple[Container, UnitOfWork]]:
    with container() as built, built.uow(write=write) as uow:
        yield built, uow


def find_account(built: Container, uow: UnitOfWork, username: str) -> Account:
    return built.accounts(uow).get(username)


def parse_when(text: str, now: float, future: bool) -> int:
    """A duration (`30d`, `12h`, `2w`) counted from now (forwards or back), a date (end of that day, local
    time, as cPanel's expiry picker means it), an ISO date-time, or Unix seconds."""
    moment = _moment(text.strip(), now, future)
    if moment is None:
        raise CliError(
            f"“{text}” is not a date (2027-01-31), a date-time (2027-01-31T12:00), a duration (30d, 12h, 2w) or "
            "Unix seconds."
        )
    if future and moment <= now:
        raise CliError(f"“{text}” is in the past: an expiry must be in the future.")
    return moment


def parse_duration(text: str, option: str) -> int:
    """Seconds: a plain number, or a duration (`90m`, `24h`, `7d`, `1w`)."""
    value = text.strip()
    if _EPOCH.fullmatch(value):
        return int(value)
    if match := _DURATION.fullmatch(value):
        return int(match.group(1)) * _UNITS[match.group(2)]
    raise CliError(f"{option}: “{text}” is not a number of seconds or a duration (90m, 24h, 7d).")


def _moment(value: str, now: float, future: bool) -> int | None:
    if match := _DURATION.fullmatch(value):
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        return int(now + seconds if future else now - seconds)
    if _EPOCH.fullmatch(value):
        return int(value)
    try:
        if len(value) == 10:
            day = datetime.date.fromisoformat(value)
            moment = datetime.datetime.combine(day, datetime.time(23, 59, 59) if future else datetime.time())
            return int(moment.astimezone().timestamp())
        return int(datetime.datetime.fromisoformat(value).astimezone().timestamp())
    except (ValueError, OverflowError):  # OverflowError: a time zone pushes the moment past year 9999
        return None


def read_password(from_stdin: bool, prompt: str = "Password") -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise CliError("No password on standard input.")
        return password
    if not sys.stdin.isatty():
        raise CliError("Standard input is not a terminal: pass --password-stdin and write the password to it.")
    typed: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return typed


def format_time(epoch: float | None) -> str:
    if epoch is None:
        return "never"
    return datetime.datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
