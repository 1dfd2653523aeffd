"""Crash safety: kill -9 the server (and an administrator's process) in the middle of concurrent writes, restart,
and check that nothing acknowledged was lost and the database is consistent.

Each round starts `hostpanel serve`, drives it with client threads that create, rename and revoke tokens (each write
also appends to the hash-chained audit trail; bad tokens add failure events, token use adds new-address events)
while an administrator process creates accounts, gives them tokens and deletes them. After a random moment both
are killed with SIGKILL. Then, with everything stopped:

- every answer of success is durable: created tokens still authenticate, renames and revocations hold, acknowledged
  account deletions hold; a request cut off by the kill may have happened or not, but only wholly one or the other;
- no token without its audit event: replaying each account's trail yields exactly its stored token names;
- no orphan rows (tokens without an account, addresses without a token, domains without an account);
- every audit hash chain verifies.

    .venv/bin/python -m bench.crash [--rounds 20] [--clients 4] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text
from tests.processes import free_port, installed

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.audit.chain import first_break
from hostpanel.domain.errors import AuthenticationFailed
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.principal import Principal

PASSWORD = "Correct-Horse-Battery-9"
CHEAP = {
    "HOSTPANEL_PASSWORD_TIME_COST": "1",
    "HOSTPANEL_PASSWORD_MEMORY_KIB": "8",
    "HOSTPANEL_PASSWORD_PARALLELISM": "1",
}
TRANSPORT_ERRORS = (httpx.TransportError,)


class Lost(AssertionError):
    """An acknowledged change is missing, or the database is inconsistent."""


@dataclass
class Figures:
    database: str = ""
    rounds: int = 0
    ops: Counter[str] = field(default_factory=Counter)

    def add(self, name: str, n: int = 1) -> None:
        self.ops[name] += n


# ---- the client side: what each thread was told, and what it must find afterwards ----------------------------


@dataclass
class TokenModel:
    """One thread's tokens: name -> secret (None: present, secret unknown) for those surely present; names surely
    absent; and the one change cut off by a kill, as (before, after) name sets to choose from."""

    present: dict[str, str | None] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)
    cut_off: tuple[set[str], set[str]] | None = None
    serial: int = 0  # names are never reused, across rounds too


class Driver(threading.Thread):
    def __init__(
        self,
        number: int,
        base: str,
        header: dict[str, str],
        model: TokenModel,
        stop: threading.Event,
        figures: Figures,
        seed: int,
    ) -> None:
        super().__init__(daemon=True)
        self.number, self.base, self.header, self.model, self.stop_event = number, base, header, model, stop
        self.figures, self.random = figures, random.Random(seed)

    def run(self) -> None:
        with httpx.Client(base_url=self.base, headers=self.header, timeout=20) as client:
            while not self.stop_event.is_set() and self.model.cut_off is None:
                try:
                    self.step(client)
                except TRANSPORT_ERRORS:
                    return  # the server is gone; the cut-off change (if any) was noted before the call

    def step(self, client: httpx.Client) -> None:
        model, roll = self.model, self.random.random()
        names = sorted(model.present)
        if roll < 0.1:  # a bad token: an authentication failure written to the audit trail
            client.get("/execute/Tokens/list", headers={"Authorization": "cpanel owner:hpat_wrong"})
            return
        if roll < 0.5 or not names:
            model.serial += 1
            name = f"c{self.number}-{model.serial}"
            model.cut_off = (set(), {name})
            body = client.post("/execute/Tokens/create", data={"name": name, "scope": "tokens:read"}).json()
            model.cut_off = None
            if body["status"] == 1:
                model.present[name] = body["data"]["token"]
                self.figures.add("token create acknowledged")
                # Use it once, so the flush writes last use and a new-address event.
                client.get("/execute/Tokens/list", headers={"Authorization": f"cpanel owner:{body['data']['token']}"})
            return
        name = self.random.choice(names)
        if roll < 0.75:
            model.serial += 1
            new = f"c{self.number}-{model.serial}"
            model.cut_off = ({name}, {new})
            body = client.post("/execute/Tokens/rename", data={"name": name, "new_name": new}).json()
            model.cut_off = None
            if body["status"] == 1:
                model.present[new] = model.present.pop(name)
                model.absent.add(name)
                self.figures.add("token rename acknowledged")
            return
        model.cut_off = ({name}, set())
        body = client.post("/execute/Tokens/revoke", data={"name": name}).json()
        model.cut_off = None
        if body["status"] == 1 and body["data"] == 1:
            model.present.pop(name)
            model.absent.add(name)
            self.figures.add("token revoke acknowledged")


# ---- the administrator's process: accounts created, given a token and deleted, each step acknowledged ---------


def admin_worker(acks: Path, start: int) -> None:
    """Runs in its own process (killed with SIGKILL); writes `STEP NAME` to `acks` after each commit."""
    container = Container(Settings())
    container.check_ready()
    acks.with_suffix(f".ready{start}").touch()
    number = start
    with acks.open("a") as out:
        while True:
            name = f"v{number}x"
            for step in ("create", "token", "delete"):
                with container.uow() as uow:
                    accounts = container.accounts(uow)
                    if step == "create":
                        accounts.create(name, PASSWORD, f"{name}@crash.test", (f"{name}.test",))
                    elif step == "token":
                        account = accounts.get(name)
                        container.tokens(uow).create(Principal.admin(account), "t", None, Permissions.full())
                    else:
                        accounts.delete(name)
                    uow.commit()
                out.write(f"{step} {name}\n")
                out.flush()
            number += 1


# ---- checks after each crash ----------------------------------------------------------------------------------


def check_tokens(container: Container, owner_id: int, models: list[TokenModel], figures: Figures) -> None:
    with container.uow(write=False) as uow:
        stored = {token.name: token for token, _ in uow.tokens.all_with_accounts(owner_id)}
        for model in models:
            if model.cut_off is not None:
                before, after = model.cut_off
                touched = before | after
                now = {name for name in touched if name in stored}
                if now not in (before, after):
                    raise Lost(f"a change cut off by the kill half-happened: {touched} -> {now}")
                figures.add("cut off, then found done" if now == after and before != after else "cut off, not done")
                for name in before - now:
                    model.present.pop(name, None)
                    model.absent.add(name)
                for name in now - before:
                    secret = next((model.present.get(old) for old in before), None) if before else None
                    model.present[name] = secret
                model.cut_off = None
            for name, secret in model.present.items():
                if name not in stored:
                    raise Lost(f"acknowledged token {name} is gone")
                if secret is not None:
                    try:
                        container.authenticator.authenticate(uow.tokens, "owner", secret, None)
                    except AuthenticationFailed as error:
                        raise Lost(f"acknowledged token {name} no longer authenticates: {error.reason}") from None
                    figures.add("acknowledged tokens re-authenticated (after every round)")
            for name in model.absent:
                if name in stored:
                    raise Lost(f"token {name}, acknowledged as renamed or revoked, is back")


def check_accounts(container: Container, acks: Path, figures: Figures) -> None:
    last: dict[str, str] = {}
    lines = acks.read_text().splitlines()
    for line in lines:
        step, name = line.split()
        last[name] = step
    with container.uow(write=False) as uow:
        existing = {account.username for account in uow.accounts.all()}
    for name, step in last.items():
        if step == "delete" and name in existing:
            raise Lost(f"account {name}, acknowledged as deleted, is back")
        if step == "create" and name not in existing:
            raise Lost(f"account {name}, acknowledged as created, is gone")
    figures.ops["account changes acknowledged and held (create, token, delete)"] = len(lines)
    # A kill between a deletion's commit and the removal of the home directory (or between making a home and a
    # rollback) leaves a directory behind; no row refers to it. Counted, not failed.
    homes = container.settings.homes_dir
    figures.ops["leftover home directories"] = sum(1 for home in homes.iterdir() if home.name not in existing)


def check_consistency(container: Container) -> int:
    """Orphans, audit replay against stored tokens, hash chains; the number of events checked."""
    with container.engine.connect() as connection:
        for label, query in {
            "tokens without an account": "SELECT count(*) FROM api_tokens t LEFT JOIN accounts a "
            "ON a.id = t.account_id WHERE a.id IS NULL",
            "addresses without a token": "SELECT count(*) FROM token_addresses x LEFT JOIN api_tokens t "
            "ON t.id = x.token_id WHERE t.id IS NULL",
            "domains without an account": "SELECT count(*) FROM account_domains d LEFT JOIN accounts a "
            "ON a.id = d.account_id WHERE a.id IS NULL",
            # A domain and its DNS zone are made and removed in one transaction: never one without the other.
            "domains without a zone": "SELECT count(*) FROM account_domains d LEFT JOIN domains z ON z.name = d.domain "
            "WHERE z.id IS NULL",
            "zones without a domain": "SELECT count(*) FROM domains z LEFT JOIN account_domains d ON d.domain = z.name "
            "WHERE d.id IS NULL",
            "records without a zone": "SELECT count(*) FROM records r LEFT JOIN domains z ON z.id = r.domain_id "
            "WHERE z.id IS NULL",
        }.items():
            if connection.execute(text(query)).scalar_one():
                raise Lost(f"orphan rows: {label}")
        stored: dict[int, set[str]] = {}
        for account_id, name in connection.execute(text("SELECT account_id, name FROM api_tokens")):
            stored.setdefault(account_id, set()).add(name)
        replayed: dict[int, set[str]] = {}
        rows = connection.execute(text("SELECT account_id, action, target, details FROM audit_events ORDER BY id"))
        for account_id, action, target, details in rows:
            names = replayed.setdefault(account_id, set())
            if action in ("admin:account:create", "admin:account:delete"):
                names.clear()
            elif action == "account:token:create":
                names.add(target)
            elif action == "account:token:rename":
                names.discard(json.loads(details)["old_name"])
                names.add(target)
            elif action in ("account:token:revoke", "account:token:revoke_leak"):
                names.discard(target)
    for account_id in set(stored) | {k for k, v in replayed.items() if v}:
        if stored.get(account_id, set()) != replayed.get(account_id, set()):
            raise Lost(
                f"account {account_id}: tokens {sorted(stored.get(account_id, set()))} but the audit trail "
                f"says {sorted(replayed.get(account_id, set()))}"
            )
    checked = 0
    with container.uow(write=False) as uow:
        for chain, head in uow.audit.chains().items():
            count, broken = first_break(chain, uow.audit.chain_events(chain), head)
            checked += count
            if broken is not None:
                raise Lost(f"audit chain {chain} broken at event {broken.event_id}: {broken.reason}")
    return checked


# ---- rounds ---------------------------------------------------------------------------------------------------


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("a") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hostpanel",
                "serve",
                "--http",
                "--port",
                str(port),
                "--whm-port",
                str(free_port()),
                "--workers",
                "2",
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")


def kill9(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the server and its worker processes
    process.wait()


def run(rounds: int, clients: int, root: Path, database_url: str | None, seed: int) -> Figures:
    home = root / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTPANEL_")}
    env.update(
        CHEAP,
        HOSTPANEL_HOME=str(home),
        HOSTPANEL_LAST_USED_FLUSH_SECONDS="0.2",
        HOSTPANEL_LOCKOUT_TOKEN_FAILURES="0",
        HOSTPANEL_TOKEN_RATE_LIMIT="0",
        PYTHONPATH=str(Path.cwd()),
    )
    if database_url:
        env["HOSTPANEL_DATABASE_URL"] = database_url
    settings = Settings(
        home=home, database_url=database_url, password_time_cost=1, password_memory_kib=8, password_parallelism=1
    )
    container = installed(settings)
    with container.uow() as uow:
        owner = container.accounts(uow).create("owner", PASSWORD, "owner@crash.test")
        driver_secret = container.tokens(uow).create(Principal.admin(owner), "driver", None, Permissions.full()).secret
        uow.commit()
    header = {"Authorization": f"cpanel owner:{driver_secret}"}
    models = [TokenModel() for _ in range(clients)]
    acks = root / "admin.acks"
    acks.touch()
    figures, chance = Figures(database=container.engine.dialect.name), random.Random(seed)
    try:
        for number in range(rounds):
            server, base = start_server(env, root / "serve.log")
            admin = subprocess.Popen(
                [sys.executable, "-m", "bench.crash", "--admin-worker", str(acks), "--start", str(number * 1000)],
                env=env,
                start_new_session=True,
            )
            ready = acks.with_suffix(f".ready{number * 1000}")
            deadline = time.monotonic() + 60
            while not ready.exists() and time.monotonic() < deadline and admin.poll() is None:
                time.sleep(0.05)
            stop = threading.Event()
            drivers = [
                Driver(n, base, header, models[n], stop, figures, chance.randrange(2**32)) for n in range(clients)
            ]
            for driver in drivers:
                driver.start()
            time.sleep(chance.uniform(0.3, 1.5))
            kill9(server)
            kill9(admin)
            stop.set()
            for driver in drivers:
                driver.join(timeout=30)
            check_tokens(container, owner.id, models, figures)
            check_accounts(container, acks, figures)
            figures.add("audit events verified (every chain, after every round)", check_consistency(container))
            figures.rounds += 1
    finally:
        container.close()
    return figures


def report(figures: Figures, seconds: float) -> None:
    print(
        f"{figures.database}: crash rounds survived: {figures.rounds} (kill -9 of the server and an admin process "
        "each round), "
        f"{seconds:.1f} s, nothing lost, database consistent"
    )
    for name, value in sorted(figures.ops.items()):
        print(f"  {name}: {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--database-url", default=None, help="An empty PostgreSQL database to use.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--admin-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.admin_worker:
        admin_worker(args.admin_worker, args.start)
        return
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hostpanel-crash-") as root:
        figures = run(args.rounds, args.clients, Path(root), args.database_url, args.seed)
    report(figures, time.monotonic() - started)


if __name__ == "__main__":
    main()
