"""What a WHM API 1 call costs beside a UAPI call, in one run on a fresh SQLite database, through the same endpoint
code the server runs (`Endpoint.dispatch`: admission, authorisation, the call in its transaction, the envelope).

The baseline is UAPI `Tokens::list` with a cPanel token. Then WHM `version` and `listaccts` (N accounts, the fields
WHMCS asks for, and every field, disk use measured), `uapi_cpanel` (a UAPI call through WHM's gate), and `version`
signed with root's password (HTTP Basic: argon2id at the server's default cost, as a client without a token pays on
every call). Prints a table, each figure's ratio to the baseline, and one line of JSON.

    .venv/bin/python -m bench.whm [--accounts 200] [--rounds 300]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from bench.common import CHEAP_HASHING, PASSWORD, median_us, report
from hostpanel.api.endpoint import Endpoint
from hostpanel.api.uapi.dialect import UapiDialect
from hostpanel.api.whm.dialect import MODULE, WhmDialect
from hostpanel.app import gate
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Service
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.functions.gate import Password, Target
from hostpanel.functions.registry import UAPI, WHM1
from hostpanel.keys import create_key_file
from hostpanel.modules import default_registry
from hostpanel.storage.engine import make_engine
from hostpanel.storage.migrate import upgrade

IP = "192.0.2.1"
V1 = [("api.version", "1")]


def installed(home: Path, cheap: bool) -> Container:
    create_key_file(home / "server.key")
    engine = make_engine(f"sqlite:///{home / 'hostpanel.db'}")
    upgrade(engine)
    engine.dispose()
    return Container(Settings(home=home, token_rate_limit=0, **(CHEAP_HASHING if cheap else {})))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        container = installed(Path(root), cheap=True)
        registry = default_registry()
        with container.uow() as uow:
            accounts = container.accounts(uow)
            accounts.ensure_root(PASSWORD)
            for number in range(args.accounts):
                accounts.create(f"user{number:05d}", PASSWORD, domains=(f"user{number:05d}.test",))
            user = accounts.get("user00000")
            cpanel = container.tokens(uow).create(Principal.admin(user), "t", None, Permissions.full())
            whm_root = Principal(accounts.root(), AuthMethod.ADMIN, service=Service.WHM)
            whm = container.tokens(uow).create(whm_root, "billing", None, Permissions.full())
            uow.commit()
        uapi_endpoint = Endpoint(UapiDialect(), gate(container, registry), container.limits, container.staging)
        endpoints = {
            "whm": Endpoint(WhmDialect(), gate(container, registry, Service.WHM), container.limits, container.staging)
        }

        def uapi() -> object:
            return uapi_endpoint.dispatch(Target("Tokens", "list", UAPI), ("user00000", cpanel.secret), [], IP)

        def call(function: str, *pairs: tuple[str, str], credentials: Any = ("root", whm.secret)) -> object:
            target = Target(MODULE, function, WHM1)
            response = endpoints["whm"].dispatch(target, credentials, [*V1, *pairs], IP)
            assert response.status_code == 200 and b'"result":1' in response.body, response.body
            return response

        figures = {"UAPI Tokens::list (baseline)": median_us(uapi, args.rounds)}
        figures["WHM version"] = median_us(lambda: call("version"), args.rounds)
        figures[f"WHM listaccts, {args.accounts} accounts, WHMCS's fields"] = median_us(
            lambda: call("listaccts", ("want", "domain,user,plan,ip,unix_startdate,suspended,email,owner")),
            max(args.rounds // 10, 10),
        )
        figures[f"WHM listaccts, {args.accounts} accounts, all (disk measured)"] = median_us(
            lambda: call("listaccts"), max(args.rounds // 10, 10)
        )
        figures["WHM uapi_cpanel Tokens::list"] = median_us(
            lambda: call(
                "uapi_cpanel", ("cpanel.user", "user00000"), ("cpanel.module", "Tokens"), ("cpanel.function", "list")
            ),
            args.rounds,
        )
        container.close()
        real = installed(Path(root) / "real", cheap=False)
        with real.uow() as uow:
            real.accounts(uow).ensure_root(PASSWORD)
            uow.commit()
        endpoints["whm"] = Endpoint(WhmDialect(), gate(real, registry, Service.WHM), real.limits, real.staging)
        figures["WHM version, HTTP Basic (argon2id default cost)"] = median_us(
            lambda: call("version", credentials=Password("root", PASSWORD)), 20
        )
        real.close()
    baseline = figures["UAPI Tokens::list (baseline)"]
    rows = [{"call": name, "median µs": round(value, 1), "× baseline": round(value / baseline, 2)}
            for name, value in figures.items()]  # fmt: skip
    report("whm", ["call", "median µs", "× baseline"], rows, accounts=args.accounts, rounds=args.rounds)


if __name__ == "__main__":
    main()
