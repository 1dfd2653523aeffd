"""End to end, offline: certbot 1.32 obtains `alice.test` from Debian's pebble with the certbot-dns-cpanel
authenticator (a token that may touch only challenges), installs it with the same package's cPanel installer
(API 2 `SSL::installssl`, a token holding only `ssl:write`), and nginx serves `https://alice.test` with it; then
AutoSSL alone does the same for `bob.test`. The HTTPS client trusts pebble's root and nothing else."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from tests.factories import PASSWORD
from tests.processes import environment, free_port, hostpanel, pebble, running_server, trusting

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def https_get(port: int, host: str, root: Path) -> tuple[x509.Certificate, str]:
    """GET / from nginx's HTTPS listener with SNI `host`, trusting only `root`: the leaf it presented and the body."""
    context = ssl.create_default_context(cafile=str(root))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        leaf = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True) or b"")
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := tls.recv(65536):
            chunks.append(chunk)
    return leaf, b"".join(chunks).decode(errors="replace")


def token(env: dict[str, str], name: str, *options: str) -> str:
    created = hostpanel(env, "token", "create", "alice", name, *options, "--json")
    return str(json.loads(created.stdout)["token"])


def credentials(path: Path, base: str, secret: str) -> Path:
    path.write_text(f"cpanel_url = {base}\ncpanel_username = alice\ncpanel_token = {secret}\n")
    path.chmod(0o600)
    return path


def run_certbot(certbot: Path, *args: str | Path, folder: Path, env: dict[str, str]) -> None:
    common: list[str | Path] = [
        "--non-interactive", "--config-dir", folder / "config", "--work-dir", folder / "work",
        "--logs-dir", folder / "logs",
    ]  # fmt: skip
    run = subprocess.run([certbot, *args, *common], env=env, capture_output=True, text=True, timeout=180, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_certbot_obtains_and_installs_and_autossl_renews_alone_both_served_by_nginx(
    tmp_path: Path, certbot: Path
) -> None:
    https = free_port()
    env = environment(
        tmp_path / "var", HOSTPANEL_HTTP_LISTEN=f"127.0.0.1:{free_port()}", HOSTPANEL_HTTPS_LISTEN=f"127.0.0.1:{https}"
    )
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "alice", "--password-stdin", "--domain", "alice.test", stdin=PASSWORD)
    hostpanel(env, "account", "create", "bob", "--password-stdin", "--domain", "bob.test", stdin=PASSWORD)
    homes = tmp_path / "var" / "homes"
    (homes / "alice" / "public_html" / "index.html").write_text("<h1>alice over https</h1>")
    (homes / "bob" / "public_html" / "index.html").write_text("<h1>bob over https</h1>")
    challenges = token(env, "certbot-dns", "--scope", "dns:write", "--acme-challenges")
    installer = token(env, "certbot-install", "--scope", "ssl:write")
    panel_ca = tmp_path / "var" / "tls" / "cert.pem"
    with (
        running_server(env, log=tmp_path / "serve.log") as base,
        pebble(tmp_path / "pebble", env["HOSTPANEL_DNS_LISTEN"]) as (directory, pebble_ca, management),
    ):
        root = tmp_path / "pebble-root.pem"
        root.write_bytes(httpx.get(f"{management}/roots/0", verify=trusting(pebble_ca)).content)
        client_env = {**os.environ, "REQUESTS_CA_BUNDLE": str(pebble_ca), "SSL_CERT_FILE": str(panel_ca)}
        folder = tmp_path / "le"
        run_certbot(
            certbot, "certonly", "--agree-tos", "-m", "admin@alice.test", "--server", directory,
            "--preferred-challenges", "dns", "--authenticator", "cpanel",
            "--cpanel-credentials", credentials(tmp_path / "dns.ini", base, challenges),
            "--cpanel-propagation-seconds", "0", "-d", "alice.test", folder=folder, env=client_env,
        )  # fmt: skip
        run_certbot(
            certbot, "install", "--installer", "cpanel", "--cert-name", "alice.test",
            "--cpanel-credentials", credentials(tmp_path / "ssl.ini", base, installer), folder=folder, env=client_env,
        )  # fmt: skip
        obtained = x509.load_pem_x509_certificate((folder / "config/live/alice.test/cert.pem").read_bytes())
        leaf, answer = https_get(https, "alice.test", root)
        assert leaf.serial_number == obtained.serial_number
        assert answer.startswith("HTTP/1.1 200") and "alice over https" in answer
        # The key went through a query string: it is nowhere but in nginx's 0600 file (not the log, not the database).
        key = (folder / "config/live/alice.test/privkey.pem").read_text()
        body = "".join(line for line in key.splitlines() if not line.startswith("-----")).encode()
        files = [tmp_path / "serve.log", *(p for p in (tmp_path / "var").rglob("*") if p.is_file())]
        holding = [p for p in files if body[20:80] in p.read_bytes().replace(b"\n", b"")]
        assert holding == [tmp_path / "var/nginx/certs/alice.test.key"]

        # AutoSSL alone, for bob (the command a cron job or `serve`'s timer runs).
        acme = {"HOSTPANEL_ACME_DIRECTORY": directory, "HOSTPANEL_ACME_CA_BUNDLE": str(pebble_ca)}
        ran = hostpanel({**env, **acme}, "autossl", "run", "--account", "bob", "--json")
        assert [json.loads(line)["result"] for line in ran.stdout.splitlines()] == ["issued"]
        leaf, answer = https_get(https, "bob.test", root)
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert names.get_values_for_type(x509.DNSName) == ["bob.test"]
        assert answer.startswith("HTTP/1.1 200") and "bob over https" in answer
        # alice's is still hers (each site its own certificate).
        assert https_get(https, "alice.test", root)[0].serial_number == obtained.serial_number

        # The installing token can do nothing else; the challenge token cannot install.
        with httpx.Client(verify=trusting(panel_ca), timeout=10) as client:
            refused = client.get(
                f"{base}/execute/DNS/parse_zone", params={"zone": "alice.test"},
                headers={"Authorization": f"cpanel alice:{installer}"},
            ).json()  # fmt: skip
            assert refused["status"] == 0 and "dns:read" in refused["errors"][0]
            refused = client.post(
                f"{base}/execute/SSL/delete_ssl", data={"domain": "alice.test"},
                headers={"Authorization": f"cpanel alice:{challenges}"},
            ).json()  # fmt: skip
            assert refused["status"] == 0 and "ssl:write" in refused["errors"][0]


def test_serve_runs_autossl_by_itself(tmp_path: Path) -> None:
    https = free_port()
    env = environment(
        tmp_path / "var", HOSTPANEL_HTTP_LISTEN=f"127.0.0.1:{free_port()}", HOSTPANEL_HTTPS_LISTEN=f"127.0.0.1:{https}"
    )
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "bob", "--password-stdin", "--domain", "bob.test", stdin=PASSWORD)
    (tmp_path / "var/homes/bob/public_html/index.html").write_text("<h1>renewed by itself</h1>")
    with pebble(tmp_path / "pebble", env["HOSTPANEL_DNS_LISTEN"]) as (directory, pebble_ca, management):
        root = tmp_path / "pebble-root.pem"
        root.write_bytes(httpx.get(f"{management}/roots/0", verify=trusting(pebble_ca)).content)
        acme = {
            "HOSTPANEL_ACME_DIRECTORY": directory, "HOSTPANEL_ACME_CA_BUNDLE": str(pebble_ca),
            "HOSTPANEL_AUTOSSL_INTERVAL_SECONDS": "2",
        }  # fmt: skip
        with running_server({**env, **acme}, log=tmp_path / "serve.log"):
            deadline = time.monotonic() + 90
            while True:
                try:
                    _leaf, answer = https_get(https, "bob.test", root)
                    break
                except OSError:  # no certificate yet: nginx refuses the handshake
                    assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
                    time.sleep(0.5)
            assert "renewed by itself" in answer
