"""SSL/TLS in a real browser against `hostpanel serve` and its nginx: AutoSSL's failure shown beside the site, a
certificate refused beside its field (the key not shown again), installed and served by nginx over HTTPS when the
page comes back, a token for a certificate robot's installer, and the certificate deleted.

Screenshots 55-59 (docs/screenshots with HOSTPANEL_DOCS_SCREENSHOTS=1); each step passes the accessibility checks.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from playwright.sync_api import Browser

from tests.e2e.browser import Visit, sign_in
from tests.factories import PASSWORD, TestCa
from tests.processes import environment, free_port, hostpanel, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    root = tmp_path_factory.mktemp("browser-ssl")
    https = free_port()
    env = environment(
        root / "var", HOSTPANEL_HTTP_LISTEN=f"127.0.0.1:{free_port()}", HOSTPANEL_HTTPS_LISTEN=f"127.0.0.1:{https}"
    )
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "alice", "--password-stdin", "--domain", "alice.test", stdin=PASSWORD)
    (root / "var/homes/alice/public_html/index.html").write_text("<h1>alice's own certificate</h1>")
    # An AutoSSL run that cannot reach its certificate authority: its failure is on the page.
    unreachable = {"HOSTPANEL_ACME_DIRECTORY": f"https://127.0.0.1:{free_port()}/dir"}
    assert hostpanel({**env, **unreachable}, "autossl", "run", check=False).returncode == 1
    with running_server(env, log=root / "serve.log") as base:
        yield base, https, root


def presented(port: int, host: str, root: str) -> tuple[int, str]:
    """The serial of the certificate nginx presents for `host` (trusting only `root`), and the page's body."""
    context = ssl.create_default_context(cadata=root)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        serial = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True) or b"").serial_number
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        body = b""
        while chunk := tls.recv(65536):
            body += chunk
    return serial, body.decode(errors="replace")


def test_ssl_tls_page_installs_a_certificate_that_nginx_serves(server: tuple[str, int, Path], browser: Browser) -> None:
    base, https, _root = server
    ca = TestCa(now=time.time(), name="Example")
    leaf, other = ca.leaf("alice.test", "www.alice.test"), ca.leaf("alice.test")
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 960})
    visit = Visit(context.new_page())
    page = visit.page
    sign_in(visit, base, PASSWORD)

    page.get_by_role("link", name="SSL/TLS").click()
    row = page.get_by_role("row").filter(has_text="alice.test")
    assert "None: the site answers over HTTP only" in row.inner_text()
    assert "Failed" in row.inner_text() and "could not be reached" in row.inner_text()
    visit.check("55-ssl-sites")

    page.get_by_label("Site", exact=True).fill("alice.test")
    page.get_by_label("Certificate (PEM)").fill(leaf.cert)
    page.get_by_label("Private key (PEM)").fill(other.key)
    page.get_by_label("CA bundle (PEM)").fill(leaf.cabundle)
    page.get_by_role("button", name="Install certificate").click()
    assert page.locator("#key-error").inner_text() == "The certificate does not match the private key."
    assert page.get_by_label("Private key (PEM)").input_value() == ""  # never sent back
    assert "PRIVATE KEY" not in page.content()
    visit.check("56-ssl-install-refused")

    page.get_by_label("Private key (PEM)").fill(leaf.key)
    page.get_by_role("button", name="Install certificate").click()
    assert page.get_by_role("status").inner_text().startswith("The certificate was installed.")
    row = page.get_by_role("row").filter(has_text="www.alice.test")
    assert "Example intermediate" in row.inner_text() and "days left" in row.inner_text()
    serial, body = presented(https, "alice.test", ca.root_pem)
    assert serial == ca.serial(leaf) and "alice's own certificate" in body
    visit.check("57-ssl-installed")

    # A token for certbot's cPanel installer: installing certificates, nothing else.
    page.get_by_role("link", name="API Tokens").click()
    page.get_by_role("link", name="Create token").click()
    page.get_by_label("Name", exact=True).fill("certbot-install")
    page.get_by_label("Read and write: ssl").check()
    visit.check("58-ssl-installer-token")
    page.get_by_role("button", name="Create token").click()
    assert "ssl:write" in page.locator("dl.facts").inner_text()

    page.get_by_role("link", name="SSL/TLS").click()
    page.get_by_role("button", name="Delete the certificate of alice.test").click()
    assert page.get_by_role("status").inner_text().startswith("The certificate was deleted.")
    visit.check("59-ssl-deleted")
    with pytest.raises(ssl.SSLError):  # nginx now refuses the handshake for it
        presented(https, "alice.test", ca.root_pem)
    context.close()
