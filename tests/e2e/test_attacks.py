"""Attacks over real HTTP on `hostpanel serve`: what the HTTP parser lets through, and what reaches disk and logs."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import PASSWORD
from tests.processes import environment, hostpanel, running_server

pytestmark = pytest.mark.e2e

Server = tuple[str, str, Path]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("attacks")
    # Proxies trusted with `*`: X-Forwarded-For is then whatever the caller says.
    env = environment(root / "var", HOSTPANEL_LAST_USED_FLUSH_SECONDS="0.2", HOSTPANEL_FORWARDED_ALLOW_IPS="*")
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "alice", "--password-stdin", stdin=PASSWORD)
    token = json.loads(hostpanel(env, "token", "create", "alice", "main", "--json").stdout)["token"]
    with running_server(env, log=root / "serve.log") as base:
        yield base, token, root


def raw(base: str, request: bytes, body_chunks: Iterable[bytes] = ()) -> tuple[bytes, int]:
    """Send bytes as they are (no client-side checks or normalisation), then the body chunks until the server stops
    taking them; the answer's head and how many body bytes were sent."""
    host, port = base.removeprefix("https://").split(":")
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    sent = 0
    with context.wrap_socket(socket.create_connection((host, int(port)), timeout=10), server_hostname=host) as sock:
        sock.sendall(request)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server answered and closed the connection
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer, sent


def get(path: str, headers: bytes) -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + b"\r\n"


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "header", [b"cpanel al\x00ice:", b"cpanel \x1b[2Jalice:", b"cpanel alice\r:"], ids=["nul", "escape", "return"]
)
def test_the_http_parser_refuses_control_characters_in_credentials(server: Server, header: bytes) -> None:
    base, token, _ = server
    answer, _ = raw(base, get("/execute/Tokens/list", b"Authorization: " + header + token.encode() + b"\r\n"))
    assert status(answer) == 400


def test_the_first_of_two_authorization_headers_is_the_one_checked(server: Server) -> None:
    base, token, _ = server
    good, bad = f"Authorization: cpanel alice:{token}\r\n".encode(), b"Authorization: cpanel alice:nope\r\n"
    assert status(raw(base, get("/execute/Tokens/list", bad + good))[0]) == 401
    assert status(raw(base, get("/execute/Tokens/list", good + bad))[0]) == 200
    assert status(raw(base, get("/openapi.json", b"Authorization: Basic eDp5\r\n" + good))[0]) == 200


@pytest.mark.parametrize(
    "path", ["/execute/../openapi.json", "/execute/%2e%2e/openapi.json", "/execute/Tokens/../../openapi.json"]
)
def test_dot_segments_do_not_lead_out_of_the_api(server: Server, path: str) -> None:
    base, token, _ = server
    credentials = f"Authorization: cpanel alice:{token}\r\n".encode()
    answer, _ = raw(base, get(path, credentials))
    assert b'"openapi"' not in answer and status(answer) in (200, 404), path


def test_an_oversized_body_ends_the_connection_and_a_dropped_one_leaves_no_traceback(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Plain HTTP, as behind a proxy that ends TLS (over TLS the event loop drains the body during its shutdown).
    root = tmp_path_factory.mktemp("plain")
    env = environment(root / "var")
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "alice", "--password-stdin", stdin=PASSWORD)
    token = json.loads(hostpanel(env, "token", "create", "alice", "main", "--json").stdout)["token"]
    head = (
        b"POST /execute/Tokens/list HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n" + f"Authorization: cpanel alice:{token}\r\n\r\n".encode()
    )
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    with running_server(env, "--http", log=root / "serve.log") as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(head)
            sent = 0
            with contextlib.suppress(OSError):  # the server answered and closed the connection
                for _ in range(1024):  # 64 MiB offered
                    sock.sendall(chunk)
                    sent += len(chunk)
        assert sent < 16 * 1024 * 1024
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(head + chunk)  # then hang up half-way
        time.sleep(0.5)
    assert "Traceback" not in (root / "serve.log").read_text()


@pytest.mark.parametrize("huge", ["user", "token"])
def test_huge_credentials_are_refused_and_the_server_lives_on(server: Server, huge: str) -> None:
    base, token, _ = server
    if huge == "user":
        header = b"cpanel " + b"a" * 1_000_000 + b":" + token.encode()
    else:
        header = b"cpanel alice:" + b"x" * 1_000_000
    answer, _ = raw(base, get("/execute/Tokens/list", b"Authorization: " + header + b"\r\n"))
    assert status(answer) in (400, 401, 431)
    assert httpx.get(f"{base}/healthz", verify=False).status_code == 200


def test_forwarded_addresses_that_are_not_addresses_are_not_recorded(server: Server) -> None:
    base, token, root = server
    headers = {"Authorization": f"cpanel alice:{token}"}
    with httpx.Client(verify=False) as client:
        for forwarded in ("[/x]", "z" * 300, "198.51.100.7"):
            client.get(f"{base}/execute/Tokens/list", headers={**headers, "X-Forwarded-For": forwarded})
            client.get(
                f"{base}/execute/Tokens/list", headers={"Authorization": "cpanel alice:x", "X-Forwarded-For": forwarded}
            )
    env = environment(root / "var")
    events = [json.loads(line) for line in hostpanel(env, "audit", "alice", "--json").stdout.splitlines()]
    addresses = {event["ip"] for event in events if event["action"] in ("account:auth:failure", "account:token:new_ip")}
    assert addresses <= {None, "127.0.0.1", "198.51.100.7"} and "198.51.100.7" in addresses
    hostpanel(env, "audit")  # the table renders whatever was sent


def test_nothing_secret_or_forged_reaches_the_disk_or_the_log(server: Server) -> None:
    base, token, root = server
    credentials = f"Authorization: cpanel alice:{token}\r\n".encode()
    raw(base, get("/execute/Tokens/list%0A2030-01-01%2000:00:00,000%20INFO%20hostpanel.access:%20forged", credentials))
    raw(base, get(f"/execute/Tokens/{token}", credentials))
    raw(base, get(f"/execute/Tokens/list?token={token}", credentials))
    with httpx.Client(verify=False) as client:
        created = client.post(
            f"{base}/execute/Tokens/create_full_access",
            data={"name": "new"},
            headers={"Authorization": f"cpanel alice:{token}"},
        )
    assert created.headers["cache-control"] == "no-store"
    secrets = [token, created.json()["data"]["token"]]
    for path in root.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not any(secret.encode() in content for secret in secrets), path
    log = (root / "serve.log").read_text()
    assert "forged" in log and not any(line.startswith("2030-01-01") for line in log.splitlines())
    assert "Traceback" not in log
