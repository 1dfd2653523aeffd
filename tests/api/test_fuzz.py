"""schemathesis against the app's own OpenAPI document: every operation, valid and invalid input, three credentials.

Each generated case is sent with a valid token, an invalid token, and the header schemathesis made up. Checks: no
5xx, every UAPI answer in the envelope, no secret in any answer or log line. CI runs a bounded number of examples
per operation and mode (HOSTPANEL_FUZZ_EXAMPLES, default 15); `bench/fuzz_api.py` runs longer and prints figures.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from starlette.testclient import TestClient

from hostpanel.api.openapi import build_openapi
from hostpanel.app import create_app
from hostpanel.modules import default_registry
from tests.api.fuzzing import FuzzTarget, check_answer, check_case, fuzz_target
from tests.factories import PASSWORD
from tests.processes import environment, hostpanel, running_server

EXAMPLES = int(os.environ.get("HOSTPANEL_FUZZ_EXAMPLES", "15"))
SCHEMA = schemathesis.openapi.from_dict(build_openapi(default_registry()))
OPERATIONS: list[Any] = [result.ok() for result in SCHEMA.get_all_operations()]  # type: ignore[union-attr]
# Invalid input needs some input to make invalid: operations without parameters are fuzzed with valid cases only.
CASES = [
    pytest.param(operation, mode, id=f"{operation.label}-{mode}")
    for operation in OPERATIONS
    for mode in GenerationMode
    if mode == GenerationMode.POSITIVE
    or operation.definition.raw.get("parameters")
    or operation.definition.raw.get("requestBody")
]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    with fuzz_target(tmp_path_factory.mktemp("fuzz") / "home") as built:
        yield built


@pytest.fixture(scope="module")
def fuzz_client(target: FuzzTarget) -> Iterator[TestClient]:
    with TestClient(create_app(target.container), base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_every_operation_holds_up(
    operation: Any,
    mode: GenerationMode,
    target: FuzzTarget,
    fuzz_client: TestClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        check_case(fuzz_client, case, target, caplog.records)

    run()


def test_a_download_of_a_real_file_is_bytes_and_nothing_else_may_be(
    target: FuzzTarget, fuzz_client: TestClient
) -> None:
    """The fuzzer may name a file the skeleton holds: that answer is the file, which the checks must accept."""
    headers = target.headers["valid"]
    saved = fuzz_client.post(
        "/execute/Fileman/save_file_content", data={"file": "fuzz-known.txt", "content": ""}, headers=headers
    )
    assert saved.json()["status"] == 1
    answer = fuzz_client.post("/execute/Fileman/download", data={"file": "fuzz-known.txt"}, headers=headers)
    assert (answer.status_code, answer.content) == (200, b"")
    check_answer(target, "/execute/Fileman/download", 200, dict(answer.headers), answer.content)
    with pytest.raises(AssertionError, match="raw bytes from a function"):
        check_answer(target, "/execute/Tokens/list", 200, dict(answer.headers), answer.content)


def test_the_fuzzer_covered_every_operation(target: FuzzTarget) -> None:
    """Runs after the cases above (same module, same worker): every operation answered, in both modes."""
    assert len(OPERATIONS) >= 18
    assert target.figures.get("cases", 0) >= len(OPERATIONS) * 2
    print(f"fuzz figures: {len(OPERATIONS)} operations, {target.figures}")


def test_oversized_and_malformed_requests_over_a_real_socket(tmp_path: Path) -> None:
    """What h11 and uvicorn refuse before the app: huge headers and URLs get a 4xx, and the server lives on."""
    env = environment(tmp_path / "var")
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "alice", "--password-stdin", stdin=PASSWORD)
    token = json.loads(hostpanel(env, "token", "create", "alice", "t", "--json").stdout)["token"]
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE  # the test's own self-signed certificate
    with running_server(env, log=tmp_path / "serve.log") as base:
        host, port = base.removeprefix("https://").split(":")

        def raw(request: bytes) -> bytes:
            with (
                socket.create_connection((host, int(port)), timeout=10) as plain,
                tls.wrap_socket(plain) as connection,
            ):
                connection.sendall(request)
                chunks = []
                try:
                    while chunk := connection.recv(65536):
                        chunks.append(chunk)
                except (ConnectionResetError, ssl.SSLError):
                    pass  # the server may drop a hopeless request without an answer
            return b"".join(chunks)

        auth = f"Authorization: cpanel alice:{token}\r\n".encode()
        cases = {
            "huge header": b"GET /execute/Tokens/list HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
            "huge url": b"GET /execute/Tokens/list?" + b"a=1&" * 50_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            "invalid utf-8 path": b"GET /execute/\xff\xfe/list HTTP/1.1\r\nHost: x\r\n"
            + auth
            + b"Connection: close\r\n\r\n",
            "body larger than declared limit": b"POST /execute/Tokens/list HTTP/1.1\r\nHost: x\r\n"
            + auth
            + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000000\r\n"
            + b"Connection: close\r\n\r\n",
            "garbage": b"\x00\x01\x02 nonsense\r\n\r\n",
        }
        for label, request in cases.items():
            answer = raw(request)
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
            assert answer == b"" or 400 <= status < 500, (label, answer[:200])
        assert b" 200 " in raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")  # still serving
