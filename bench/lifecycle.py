"""What the token lifecycle costs on the authentication path, beside an ordinary token.

Measured in one run on a fresh SQLite database, without the token cache (one read transaction with one indexed
lookup per call): `TokenAuthenticator.authenticate` with an ordinary token (the baseline), a rotating token's new and
old secret, an imported 32-character cPanel token (one SHA-512 more, then the same lookup), and refusals of unknown
tokens in both formats; then the gate's full admission of an ordinary token and of a use-limited one (which adds
one conditional UPDATE in a write transaction). Prints a table and each figure's ratio to the baseline.

    .venv/bin/python -m bench.lifecycle [--rounds 3000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import CHEAP_HASHING
from hostpanel.app import gate
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Service
from hostpanel.domain.errors import AuthenticationFailed
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.importer import StoreFile, TokenImport
from hostpanel.functions.gate import Admitted, Target
from hostpanel.keys import create_key_file
from hostpanel.modules import default_registry
from hostpanel.storage.engine import make_engine
from hostpanel.storage.migrate import upgrade

IP = "192.0.2.1"
LEGACY = "Q7ZP4K0M2X9C8V1B6N3L5J7H0G2F4D8S"  # a string in cPanel's token format


def interleaved(actions: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median µs of each action, run in turn round after round, so load from elsewhere hits them all alike."""
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1e6 for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        home = Path(root)
        create_key_file(home / "server.key")
        engine = make_engine(f"sqlite:///{home / 'hostpanel.db'}")
        upgrade(engine)
        engine.dispose()
        container = Container(Settings(home=home, **CHEAP_HASHING))
        with container.uow() as uow:
            account = container.accounts(uow).create("bench", "Correct-Horse-Battery-9")
            tokens = container.tokens(uow)
            admin = Principal.admin(account)
            plain = tokens.create(admin, "plain", None, Permissions.full(), rate_limit=0).secret
            old = tokens.create(admin, "rotating", None, Permissions.full()).secret
            new = tokens.rotate(admin, "rotating", 3600).secret
            limited = tokens.create(admin, "limited", None, Permissions.full(), rate_limit=0, max_uses=10**9).secret
            store = json.dumps({"tokens": {secret.legacy_digest(LEGACY): {"name": "legacy", "has_full_access": 1}}})
            importer = TokenImport(uow, container.keys.keyring, container.clock, container.audit(uow))
            importer.apply(importer.plan([StoreFile("bench.json", "bench", Service.CPANEL, store)], {}), "bench")
            uow.commit()

        def authenticate(token: str) -> Callable[[], object]:
            def run() -> object:
                with container.uow(write=False) as uow:
                    try:
                        return container.authenticator.authenticate(uow.tokens, "bench", token, IP)
                    except AuthenticationFailed:
                        return None

            return run

        figures = interleaved(
            {
                "ordinary token (baseline)": authenticate(plain),
                "rotating, new secret": authenticate(new),
                "rotating, old secret": authenticate(old),
                "imported cPanel token": authenticate(LEGACY),
                "unknown, our format": authenticate(secret.generate()),
                "unknown, cPanel format": authenticate("Z" * 32),
            },
            args.rounds,
        )
        admission = gate(container, default_registry())
        target = Target("Tokens", "list")

        def admit(token: str) -> Callable[[], object]:
            def run() -> object:
                decided = admission.admit(target, ("bench", token), IP)
                assert isinstance(decided, Admitted)
                return decided

            return run

        figures.update(
            interleaved({"gate admit, ordinary": admit(plain), "gate admit, max_uses": admit(limited)}, args.rounds)
        )
        container.close()
    baseline = figures["ordinary token (baseline)"]
    print(f"{'step':<28} {'median µs':>10} {'× baseline':>11}")
    for name, value in figures.items():
        print(f"{name:<28} {value:>10.1f} {value / baseline:>11.2f}")
    print(
        f"use limit's own cost: {figures['gate admit, max_uses'] / figures['gate admit, ordinary']:.2f}× an admission"
    )


if __name__ == "__main__":
    main()
