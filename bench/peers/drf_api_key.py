# ruff: noqa: PLC0415 - Django must be configured before its models are imported
"""The peer in `bench.verify`: djangorestframework-api-key verifying keys with N keys stored (Django on SQLite).

Runs inside the benchmark's own virtual environment (never the project's): `bench.verify` makes it and passes
`--sizes`, `--rounds` and a scratch directory; prints one JSON object: per size, the median µs of
`APIKey.objects.is_valid(key)` (prefix lookup in the database, then the key hasher) for keys spread over the table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path


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
        ],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def measure(size: int, rounds: int) -> dict[str, float | int]:
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
    for key in probes[:50]:
        assert APIKey.objects.is_valid(key)
    samples = []
    for key in probes:
        started = time.perf_counter()
        valid = APIKey.objects.is_valid(key)
        samples.append(time.perf_counter() - started)
        assert valid
    return {"tokens": size, "peer_median_us": round(statistics.median(samples) * 1e6, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", required=True)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--scratch", required=True)
    options = parser.parse_args()
    configure(Path(options.scratch) / "peer.sqlite3")
    import django
    import rest_framework_api_key

    results = [measure(int(size), options.rounds) for size in options.sizes.split(",")]
    version = getattr(rest_framework_api_key, "__version__", "?")
    print(
        json.dumps(
            {
                "peer": f"djangorestframework-api-key {version} (Django {django.get_version()}, SQLite)",
                "python": sys.version.split()[0],
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
