"""The long schemathesis run: every operation of /openapi.json, valid and invalid input, three credentials each.

Same checks as the CI test (tests/api/test_fuzz.py): no 5xx, the UAPI envelope, no secret in answers or logs.
Prints the cases run, the answers checked and every failure found (with the operation and the first error line).

    .venv/bin/python -m bench.fuzz_api [--examples 500] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from starlette.testclient import TestClient
from tests.api.fuzzing import FuzzTarget, check_case, fuzz_target

from hostpanel.api.openapi import build_openapi
from hostpanel.app import create_app
from hostpanel.modules import default_registry


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def fuzz(target: FuzzTarget, examples: int) -> list[str]:
    schema = schemathesis.openapi.from_dict(build_openapi(default_registry()))
    collected = _Collect()
    logging.getLogger().addHandler(collected)
    logging.getLogger().setLevel(logging.DEBUG)
    failures = []
    with TestClient(
        create_app(target.container), base_url="https://testserver", raise_server_exceptions=False
    ) as client:
        for result in schema.get_all_operations():
            operation: Any = result.ok()  # type: ignore[union-attr]
            raw = operation.definition.raw
            for mode in GenerationMode:
                if mode == GenerationMode.NEGATIVE and not (raw.get("parameters") or raw.get("requestBody")):
                    continue

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
                def run(case: Any) -> None:
                    check_case(client, case, target, collected.records)

                try:
                    run()
                except Exception as error:
                    failures.append(f"{operation.label} ({mode}): {str(error).strip().splitlines()[0][:200]}")
    logging.getLogger().removeHandler(collected)
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=500, help="Examples per operation and mode.")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="hostpanel-fuzz-") as root,
        fuzz_target(Path(root) / "home", args.database_url) as target,
    ):
        failures = fuzz(target, args.examples)
    elapsed = time.monotonic() - started
    figures = target.figures
    print(
        f"schemathesis: {figures.get('cases', 0)} cases, {figures.get('answers', 0)} answers checked "
        f"({figures.get('failures answered', 0)} UAPI failures answered in the envelope), "
        f"{figures.get('log lines', 0)} log lines checked, {len(failures)} failure(s) found, {elapsed:.0f} s"
    )
    for failure in failures:
        print(f"  FAILURE {failure}")


if __name__ == "__main__":
    main()
