"""What brute-force protection and rate limits add to an authenticated request, beside authentication itself.

Measured in one run on a fresh SQLite database: the median time of `TokenAuthenticator.authenticate` without the
token cache (the baseline: one read transaction with one indexed lookup, and one HMAC), of `LoginGuard.check` (from
the blocks held in memory: no read while nothing changes), and of a rate-limit count, in memory and, when
HOSTPANEL_REDIS_URL is set, in Redis. Prints a table and each figure's ratio to the baseline.

    .venv/bin/python -m bench.hot_path [--rounds 5000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from pathlib import Path

from bench.common import CHEAP_HASHING, median_us
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.principal import Principal
from hostpanel.domain.security.lockout import LoginKind
from hostpanel.keys import create_key_file
from hostpanel.storage.engine import make_engine
from hostpanel.storage.migrate import upgrade


def build(home: Path, redis_url: str | None) -> Container:
    settings = Settings(
        home=home, redis_url=redis_url, redis_prefix=f"hostpanel-bench:{uuid.uuid4().hex}:", **CHEAP_HASHING
    )
    return Container(settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5000)
    args = parser.parse_args()
    redis_url = os.environ.get("HOSTPANEL_REDIS_URL")
    with tempfile.TemporaryDirectory() as root:
        home = Path(root)
        create_key_file(home / "server.key")
        engine = make_engine(f"sqlite:///{home / 'hostpanel.db'}")
        upgrade(engine)
        engine.dispose()
        container = build(home, None)
        with container.uow() as uow:
            account = container.accounts(uow).create("bench", "Correct-Horse-Battery-9")
            issued = container.tokens(uow).create(Principal.admin(account), "t", None, Permissions.full())
            uow.commit()

        def authenticate() -> object:
            with container.uow(write=False) as uow:
                return container.authenticator.authenticate(uow.tokens, "bench", issued.secret, "192.0.2.1")

        figures = {"authenticate (baseline)": median_us(authenticate, args.rounds)}
        guard, limiter = container.login_guard, container.rate_limiter
        figures["guard check, database store"] = median_us(
            lambda: guard.check("192.0.2.1", "bench", LoginKind.TOKEN), args.rounds
        )
        figures["rate count, memory"] = median_us(lambda: limiter.hit(f"token:{issued.token.id}", 10**9), args.rounds)
        if redis_url:
            shared = build(home, redis_url)
            figures["guard check, Redis"] = median_us(
                lambda: shared.login_guard.check("192.0.2.1", "bench", LoginKind.TOKEN), args.rounds
            )
            figures["rate count, Redis"] = median_us(
                lambda: shared.rate_limiter.hit(f"token:{issued.token.id}", 10**9), args.rounds
            )
            assert shared.redis is not None
            keys = list(shared.redis.scan_iter(match=f"{shared.settings.redis_prefix}*"))
            if keys:
                shared.redis.delete(*keys)
            shared.close()
        container.close()
    baseline = figures["authenticate (baseline)"]
    print(f"{'step':<26} {'median µs':>10} {'× baseline':>11}")
    for name, value in figures.items():
        print(f"{name:<26} {value:>10.1f} {value / baseline:>11.2f}")


if __name__ == "__main__":
    main()
