"""nginx as the panel runs it: confinement to the home (links planted by the account, paths that climb), the default
server for unknown names, certificates taken from the certificate directory, and configurations that nginx refuses
or does not take, which leave the previous one served. Against the real nginx."""

from __future__ import annotations

import dataclasses
import socket
import ssl
from pathlib import Path

import pytest

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.principal import Principal
from hostpanel.domain.sites.certificates import SitesLayout, SitesUnavailable
from hostpanel.tls import ensure_self_signed
from hostpanel.webserver import nginx
from hostpanel.webserver.config import Listen
from hostpanel.webserver.nginx import NginxSites
from tests.factories import fetch, make_account

pytestmark = pytest.mark.usefixtures("webserver")
SECRET = "secret-outside-the-home"


@pytest.fixture
def public(container: Container, alice: Account) -> Path:
    home = container.homes.path_for(alice.username)
    (home / "public_html" / "index.html").write_text("alice's page")
    container.nginx_sites.publish()  # alice was made after nginx started
    return home / "public_html"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.html").write_text(SECRET)
    return folder


def test_links_out_of_the_home_are_not_followed(settings: Settings, public: Path, outside: Path) -> None:
    (public / "outdir").symlink_to(outside)
    (public / "leak.html").symlink_to(outside / "secret.html")
    (public / "root").symlink_to("/")
    (public / "inside.html").symlink_to(public / "index.html")  # even a link inside the home: links are refused
    assert fetch(settings, "alice.test") == (200, "alice's page")
    for path in ("/outdir/secret.html", "/leak.html", "/root/etc/passwd", "/inside.html"):
        status, body = fetch(settings, "alice.test", path)
        assert status in (403, 404) and SECRET not in body and "root:" not in body, path


@pytest.mark.usefixtures("nameserver")
def test_a_document_root_replaced_by_a_link_is_not_followed(
    settings: Settings, container: Container, alice: Account, public: Path, outside: Path
) -> None:
    with container.read() as uow:
        container.sites(Principal.admin(alice), uow).add_subdomain("blog", "alice.test")
    blog = public / "blog"
    blog.rmdir()
    blog.symlink_to(outside)  # after the site was made: the check is nginx's, at every request
    (outside / "index.html").write_text(SECRET)
    status, body = fetch(settings, "blog.alice.test", "/index.html")
    assert status in (403, 404) and SECRET not in body


def test_paths_never_climb_into_another_home(settings: Settings, container: Container, public: Path) -> None:
    bob = make_account(container, "bob", domains=("bob.test",))
    (container.homes.path_for(bob.username) / "public_html" / "index.html").write_text("bob's page")
    container.nginx_sites.publish()
    assert fetch(settings, "bob.test") == (200, "bob's page")
    for path in (
        "/../alice/public_html/index.html",
        "/../../alice/public_html/index.html",
        "/%2e%2e/alice/public_html/index.html",
        "/..%2f..%2falice%2fpublic_html%2findex.html",
        "/~alice/",
    ):
        status, body = fetch(settings, "bob.test", path)
        assert "alice's page" not in body, (path, status)


@pytest.mark.parametrize("host", ["nobody.test", "xalice.test", "alice.test.nobody.test", "127.0.0.1"])
def test_an_unknown_host_gets_no_site(settings: Settings, container: Container, public: Path, host: str) -> None:
    container.nginx_sites.publish()
    status, body = fetch(settings, host)
    assert status == 404 and "alice" not in body


def _handshake(settings: Settings, name: str) -> bytes:
    address, port = settings.https_listen.rsplit(":", 1)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((address, int(port)), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
        answer = tls.recv(65536)
        certificate = tls.getpeercert(binary_form=True)
    assert certificate is not None and b"200 OK" in answer
    return certificate


def test_https_serves_a_site_with_the_certificate_in_the_directory(
    settings: Settings, container: Container, public: Path
) -> None:
    files = SitesLayout(settings.home_dir).certificate_files("alice.test")
    ensure_self_signed(files.chain, files.key)
    container.nginx_sites.publish()
    pem = files.chain.read_text()
    assert _handshake(settings, "alice.test") == ssl.PEM_cert_to_DER_cert(pem)
    with pytest.raises(ssl.SSLError):  # no certificate of another site for an unknown name
        _handshake(settings, "nobody.test")


@pytest.mark.usefixtures("nameserver")
def test_a_configuration_nginx_refuses_is_never_used(
    settings: Settings, container: Container, alice: Account, public: Path
) -> None:
    sites = container.nginx_sites
    sites.publish()
    before = sites.config_path.read_text()
    files = SitesLayout(settings.home_dir).certificate_files("blog.alice.test")
    files.chain.write_text("not a certificate")  # as a broken certificate would be
    files.key.write_text("not a key")
    with container.read() as uow, pytest.raises(SitesUnavailable, match="nginx refused the new configuration"):
        container.sites(Principal.admin(alice), uow).add_subdomain("blog", "alice.test")
    assert sites.config_path.read_text() == before
    with container.read() as uow:
        assert [site.domain for site in uow.sites.of_account(alice.id)] == ["alice.test"]
        assert "blog.alice.test" not in {e.record.name for e in uow.zones.get("alice.test").entries}  # type: ignore[union-attr]
    assert fetch(settings, "alice.test") == (200, "alice's page")


def test_a_reload_nginx_does_not_take_puts_the_previous_configuration_back(
    settings: Settings, container: Container, public: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sites = container.nginx_sites
    sites.publish()
    before, generation = sites.config_path.read_text(), sites.generation_served()
    monkeypatch.setattr(nginx, "LIVE_WAIT", 1.5)
    with socket.socket() as taken:  # a new listening address nginx cannot bind: `nginx -t` passes, the reload fails
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        moved = dataclasses.replace(sites.setup, https=Listen("127.0.0.1", taken.getsockname()[1]))
        with pytest.raises(SitesUnavailable, match="did not take the new configuration"):
            NginxSites(moved, container.read).publish()
    assert sites.config_path.read_text() == before
    assert sites.generation_served() == generation
    assert fetch(settings, "alice.test") == (200, "alice's page")


def test_what_another_process_committed_is_served_by_the_refresh(settings: Settings, container: Container) -> None:
    sites = container.nginx_sites
    sites.publish()
    assert sites.refresh() is False  # nothing changed: no reload
    bob = make_account(container, "bob", domains=("bob.test",))  # as `hostpanel account create` does
    (container.homes.path_for(bob.username) / "public_html" / "index.html").write_text("bob's page")
    assert sites.refresh() is True
    assert fetch(settings, "bob.test") == (200, "bob's page")


def test_a_suspended_account_is_not_served(
    settings: Settings, container: Container, alice: Account, public: Path
) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_suspended("alice", True, "unpaid")
        uow.commit()
    container.nginx_sites.refresh()
    assert fetch(settings, "alice.test")[0] == 404


def test_unsafe_paths_are_refused(settings: Settings, container: Container, public: Path) -> None:
    odd = dataclasses.replace(container.nginx_sites.setup, homes=Path("/tmp/a b;"))
    with pytest.raises(HostpanelError, match="nginx cannot be given the path"):
        NginxSites(odd, container.read).publish()
