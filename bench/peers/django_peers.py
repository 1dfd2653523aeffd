# ruff: noqa: PLC0415 - Django must be configured before its models are imported
"""The peers in `bench.verify`: djangorestframework-api-key and django-rest-knox verifying keys with N stored
(Django on SQLite, each library's own verification call).

Runs inside the benchmark's own virtual environment (never the project's): `bench.verify` makes it and passes
`--sizes`, `--rounds` and a scratch directory; prints one JSON object: per peer and size, the median µs of a hit (a
stored key, spread over the table) and of a miss (a well-formed key never issued):

- djangorestframework-api-key: `APIKey.objects.is_valid(key)` (prefix lookup in the database, then its key hasher);
- django-rest-knox: `TokenAuthentication().authenticate_credentials(token)` (token-key lookup, then SHA-512 and a
  constant-time compare; expiry checked, no refresh).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def configure(database: Path) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}},
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "rest_framework",
            "rest_framework_api_key",
            "knox",
        ],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        REST_KNOX={"AUTO_REFRESH": False, "TOKEN_TTL": None},
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def median_us(action: Callable[[Any], object], inputs: list[Any]) -> float:
    samples = []
    for item in inputs:
        started = time.perf_counter()
        action(item)
        samples.append(time.perf_counter() - started)
    return round(statistics.median(samples) * 1e6, 2)


def drf_api_key(size: int, rounds: int) -> dict[str, float | int]:
    from rest_framework_api_key.models import APIKey

    APIKey.objects.all().delete()
    generator = APIKey.objects.key_generator
    keys, rows = [], []
    for n in range(size):
        key, prefix, hashed = generator.generate()
        keys.append(key)
        rows.append(APIKey(name=f"k{n}", prefix=prefix, hashed_key=hashed, id=f"{prefix}.{hashed}"[:150]))
        if len(rows) == 10_000:
            APIKey.objects.bulk_create(rows)
            rows = []
    APIKey.objects.bulk_create(rows)
    probes = [keys[n * size // rounds] for n in range(rounds)]
    unknown = [generator.generate()[0] for _ in range(rounds)]
    for key in probes[:50]:
        assert APIKey.objects.is_valid(key)
    for key in unknown[:50]:
        assert not APIKey.objects.is_valid(key)
    return {
        "tokens": size,
        "hit_us": median_us(APIKey.objects.is_valid, probes),
        "miss_us": median_us(APIKey.objects.is_valid, unknown),
    }


KNOX_ROUNDS = 2000  # a hit reads the user's tokens and the user: a few hundred µs, fewer rounds suffice
KNOX_TOKENS_PER_USER = 10  # knox sessions belong to users; each hit walks all of its user's tokens (expiry clean-up)


def knox(size: int, rounds: int) -> dict[str, float | int]:
    """N tokens over N/10 users: with all N on one user, each hit would walk N tokens (knox's clean-up of expired
    tokens), which measures that loop, not the lookup."""
    rounds = min(rounds, KNOX_ROUNDS)
    from django.contrib.auth.models import User
    from knox import crypto
    from knox.auth import TokenAuthentication
    from knox.models import AuthToken
    from knox.settings import CONSTANTS
    from rest_framework.exceptions import AuthenticationFailed

    AuthToken.objects.all().delete()
    User.objects.filter(username__startswith="bench").delete()
    users = User.objects.bulk_create(
        [User(username=f"bench{n}") for n in range(max(1, size // KNOX_TOKENS_PER_USER))], batch_size=10_000
    )
    if not users[0].pk:  # databases that do not return keys from a bulk insert
        users = list(User.objects.filter(username__startswith="bench").order_by("id"))
    tokens, rows = [], []
    for n in range(size):
        token = crypto.create_token_string()
        tokens.append(token)
        rows.append(
            AuthToken(
                user=users[n % len(users)],
                token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH],
                digest=crypto.hash_token(token),
                expiry=None,
            )
        )
        if len(rows) == 10_000:
            AuthToken.objects.bulk_create(rows)
            rows = []
    AuthToken.objects.bulk_create(rows)
    probes = [tokens[n * size // rounds].encode() for n in range(rounds)]
    unknown = [crypto.create_token_string().encode() for _ in range(rounds)]
    auth = TokenAuthentication()

    def miss(token: bytes) -> None:
        try:
            auth.authenticate_credentials(token)
        except AuthenticationFailed:
            return
        raise AssertionError("an unknown knox token was accepted")

    for token in probes[:50]:
        assert auth.authenticate_credentials(token)[0].username.startswith("bench")
    return {
        "tokens": size,
        "rounds": rounds,
        "hit_us": median_us(auth.authenticate_credentials, probes),
        "miss_us": median_us(miss, unknown),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", required=True)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--scratch", required=True)
    parser.add_argument("--only", default="", help="comma-separated peer names (default: all)")
    options = parser.parse_args()
    configure(Path(options.scratch) / "peer.sqlite3")
    from importlib.metadata import version

    import django

    sizes = [int(size) for size in options.sizes.split(",")]
    peers = {
        "drf_api_key": (f"djangorestframework-api-key {version('djangorestframework-api-key')}", drf_api_key),
        "knox": (f"django-rest-knox {version('django-rest-knox')}", knox),
    }
    found = {}
    chosen = set(options.only.split(",")) if options.only else set(peers)
    for name, (label, measure) in peers.items():
        if name not in chosen:
            continue
        results = []
        for size in sizes:
            results.append(measure(size, options.rounds))
            print(f"  measured {name} with {size} keys", file=sys.stderr)
        found[name] = {"label": label, "results": results}
    print(json.dumps({"django": django.get_version(), "python": sys.version.split()[0], "peers": found}))


if __name__ == "__main__":
    main()
