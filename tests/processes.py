"""Running hostpanel as real processes: the CLI and the server, with a data directory of the test's own."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import random
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.keys import create_key_file
from hostpanel.storage.engine import make_engine
from hostpanel.storage.migrate import upgrade

CHEAP_HASHING = {
    "HOSTPANEL_PASSWORD_TIME_COST": "1",
    "HOSTPANEL_PASSWORD_MEMORY_KIB": "8",
    "HOSTPANEL_PASSWORD_PARALLELISM": "1",
}


def environment(home: Path, **extra: str) -> dict[str, str]:
    """A server's environment: its own data directory, cheap hashing, and nameserver and web server ports of its own
    (servers of parallel tests never share one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTPANEL_")}
    dns = {"HOSTPANEL_DNS_LISTEN": f"127.0.0.1:{free_dns_port()}"}
    web = {
        "HOSTPANEL_HTTP_LISTEN": f"127.0.0.1:{free_dns_port()}",
        "HOSTPANEL_HTTPS_LISTEN": f"127.0.0.1:{free_dns_port()}",
    }
    offline = {"HOSTPANEL_AUTOSSL_INTERVAL_SECONDS": "0"}  # a test's server never asks the real Let's Encrypt
    return {**env, **CHEAP_HASHING, "HOSTPANEL_HOME": str(home), **dns, **web, **offline, **extra}


def hostpanel(
    env: dict[str, str], *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "hostpanel", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"hostpanel {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed CLI command printed, without its prefix; no traceback came with it."""
    stderr = result.stderr
    assert result.returncode != 0
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("hostpanel: error: ")
    return lines[0].removeprefix("hostpanel: error: ")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_dns_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (a nameserver answers on both), below the ephemeral range: an
    ephemeral port found free may be taken by an outgoing connection before the nameserver binds it."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 32700)
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                tcp.bind(("127.0.0.1", port))
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise AssertionError("no port free for both TCP and UDP")


def start_server(
    env: dict[str, str], *args: str, log: Path, port: int | None = None, whm_port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `hostpanel serve` (HTTPS unless `--http`) and wait until it answers; the caller stops it. WHM listens
    on `whm_port` (a free one by default: never WHM's 2087, which parallel tests would share)."""
    port = port or free_port()
    whm_port = whm_port or free_port()
    with log.open("a") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "hostpanel", "serve", "--port", str(port), "--whm-port", str(whm_port), *args],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"{'http' if '--http' in args else 'https'}://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", verify=False, timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)


@contextmanager
def running_servers(env: dict[str, str], *args: str, log: Path) -> Iterator[tuple[str, str]]:
    """`running_server` with both ports: yields the account port's base URL and WHM's."""
    whm_port = free_port()
    process, base = start_server(env, *args, log=log, whm_port=whm_port)
    try:
        yield base, f"{base.rsplit(':', 1)[0]}:{whm_port}"
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_server(env: dict[str, str], *args: str, log: Path) -> Iterator[str]:
    """Start `hostpanel serve` on a free port (HTTPS unless `--http`); yield its base URL; stop it with SIGTERM."""
    process, base = start_server(env, *args, log=log)
    try:
        yield base
    finally:
        stop(process)


def installed(settings: Settings) -> Container:
    """A fresh installation in-process: data directory, server key and a migrated database, and its container."""
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    create_key_file(settings.key_path)
    engine = make_engine(settings.database_url_or_default)
    upgrade(engine)
    engine.dispose()
    return Container(settings)


# pebble: Debian's ACME test server, validating DNS-01 challenges against a nameserver we name.

PEBBLE = Path("/usr/bin/pebble")


def _certificate(
    subject: str, issuer_key: ec.EllipticCurvePrivateKey | None, issuer: x509.Name | None
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return key, builder.sign(issuer_key or key, hashes.SHA256())


def _pem(path: Path, item: ec.EllipticCurvePrivateKey | x509.Certificate) -> Path:
    if isinstance(item, x509.Certificate):
        path.write_bytes(item.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(
            item.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return path


def trusting(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


@contextmanager
def pebble(folder: Path, nameserver: str) -> Iterator[tuple[str, Path, str]]:
    """pebble, asking `nameserver` for the challenges; yields its directory URL, the CA of its TLS certificate, and
    its management URL (where its issuing root is)."""
    if not PEBBLE.exists():
        pytest.fail("pebble is missing: apt-get install -y pebble")
    ca_key, ca = _certificate("pebble test CA", None, None)
    key, leaf = _certificate("localhost", ca_key, ca.subject)
    folder.mkdir()
    acme, management = free_port(), free_port()
    config = {
        "pebble": {
            "listenAddress": f"127.0.0.1:{acme}", "managementListenAddress": f"127.0.0.1:{management}",
            "certificate": str(_pem(folder / "cert.pem", leaf)), "privateKey": str(_pem(folder / "key.pem", key)),
            "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "", "externalAccountBindingRequired": False,
        }
    }  # fmt: skip
    (folder / "pebble.json").write_text(json.dumps(config))
    env = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0", "PEBBLE_AUTHZREUSE": "0"}
    command: list[str | Path] = [PEBBLE, "-config", folder / "pebble.json", "-dnsserver", nameserver]
    with (folder / "pebble.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    ca_file = _pem(folder / "ca.pem", ca)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"https://localhost:{acme}/dir", verify=trusting(ca_file), timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (folder / "pebble.log").read_text()
            time.sleep(0.1)
        yield f"https://localhost:{acme}/dir", ca_file, f"https://localhost:{management}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_until(check: Callable[[], bool], seconds: float = 20) -> None:
    """Poll `check` until it holds (a process's outside effects, which nothing announces)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.05)
