"""UAPI `SSL` and API 2 `SSL::installssl`: checked installation served from 0600 files, the key sealed at rest and
never answered, the `ssl` scope and `sslinstall` feature enforced by the gate."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.certificates.service import key_context
from hostpanel.domain.permissions import Permissions, Scope
from hostpanel.domain.sealing import SealError, SecretBox
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import Api2, Calls, TestCa, make_account, make_token

CA = TestCa()


@pytest.fixture
def ssl(client: TestClient, alice_token: IssuedToken) -> Calls:
    return Calls(client, alice_token.secret, "SSL")


def certs_dir(container: Container) -> Path:
    return container.settings.home_dir / "nginx" / "certs"


def key_material(pem: str) -> list[bytes]:
    """What would betray a key: its PEM body, pieces of it, its DER bytes."""
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    der = base64.b64decode(body)
    return [body.encode(), body[10:40].encode(), der[-32:]]


def test_install_ssl_serves_the_certificate_from_private_files_and_lists_it(ssl: Calls, container: Container) -> None:
    leaf = CA.leaf("alice.test", "www.alice.test")
    data = ssl.post("install_ssl", domain="alice.test", cert=leaf.cert, key=leaf.key, cabundle=leaf.cabundle)["data"]
    assert data["domain"] == "alice.test" and data["extra_certificate_domains"] == ["www.alice.test"]
    chain, key = certs_dir(container) / "alice.test.crt", certs_dir(container) / "alice.test.key"
    assert chain.read_text() == leaf.cert + leaf.cabundle
    assert key.read_text() == leaf.key
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(chain.stat().st_mode) == 0o600
    assert stat.S_IMODE(certs_dir(container).stat().st_mode) == 0o700
    (listed,) = ssl.get("list_certs")["data"]
    assert listed["domains"] == ["alice.test", "www.alice.test"] and listed["id"] == data["cert_id"]
    assert listed["issuer.commonName"] == "hostpanel test intermediate" and listed["is_self_signed"] == 0
    (host,) = ssl.get("installed_hosts")["data"]
    assert host["servername"] == "alice.test" and host["certificate"]["id"] == data["cert_id"]


def test_a_new_installation_replaces_the_domains_certificate(ssl: Calls, container: Container) -> None:
    first, second = CA.leaf("alice.test"), CA.leaf("alice.test")
    for leaf in (first, second):
        ssl.post("install_ssl", domain="alice.test", cert=leaf.cert, key=leaf.key, cabundle=leaf.cabundle)
    assert len(ssl.get("list_certs")["data"]) == 1
    assert (certs_dir(container) / "alice.test.key").read_text() == second.key


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key": CA.leaf("alice.test").key}, "does not match the private key"),
        ({"domain": "shop.test"}, "is not one of your account’s domains"),
        ({"cabundle": ""}, "chain is incomplete"),
        ({"cert": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----"}, "not a valid PEM"),
    ],
)
def test_bad_input_installs_nothing(ssl: Calls, container: Container, change: dict[str, str], field: str) -> None:
    leaf = CA.leaf("alice.test")
    args = {"domain": "alice.test", "cert": leaf.cert, "key": leaf.key, "cabundle": leaf.cabundle, **change}
    assert field in ssl.error("install_ssl", **args)
    assert ssl.get("list_certs")["data"] == []
    assert not (certs_dir(container) / "alice.test.key").exists()
    assert not (certs_dir(container) / "shop.test.key").exists()


def test_a_subdomain_and_a_wildcard_are_sites_of_the_account(ssl: Calls, container: Container) -> None:
    leaf = CA.leaf("*.alice.test")
    ssl.post("install_ssl", domain="*.alice.test", cert=leaf.cert, key=leaf.key, cabundle=leaf.cabundle)
    assert (certs_dir(container) / "_.alice.test.key").read_text() == leaf.key
    blog = CA.leaf("blog.alice.test")
    ssl.post("install_ssl", domain="blog.alice.test", cert=blog.cert, key=blog.key, cabundle=blog.cabundle)
    assert sorted(c["friendly_name"] for c in ssl.get("list_certs")["data"]) == ["*.alice.test", "blog.alice.test"]


def test_another_accounts_domain_is_refused(ssl: Calls, container: Container) -> None:
    make_account(container, "bob", domains=("bob.test",))
    leaf = CA.leaf("bob.test")
    args = {"domain": "bob.test", "cert": leaf.cert, "key": leaf.key, "cabundle": leaf.cabundle}
    assert "not one of your account’s domains" in ssl.error("install_ssl", **args)
    assert not (certs_dir(container) / "bob.test.key").exists()


def test_delete_ssl_removes_the_certificate_and_its_files(ssl: Calls, container: Container) -> None:
    leaf = CA.leaf("alice.test")
    ssl.post("install_ssl", domain="alice.test", cert=leaf.cert, key=leaf.key, cabundle=leaf.cabundle)
    ssl.post("delete_ssl", domain="alice.test")
    assert ssl.get("list_certs")["data"] == []
    assert list(certs_dir(container).iterdir()) == []
    assert "No certificate is installed" in ssl.error("delete_ssl", domain="alice.test")


def test_the_key_is_sealed_at_rest_and_never_answered_or_logged(
    ssl: Calls, client: TestClient, container: Container, alice_token: IssuedToken, caplog: pytest.LogCaptureFixture
) -> None:
    leaf = CA.leaf("alice.test")
    answers = [ssl.post("install_ssl", domain="alice.test", cert=leaf.cert, key=leaf.key, cabundle=leaf.cabundle)]
    answers += [ssl.get("list_certs"), ssl.get("installed_hosts")]
    answers.append(Calls(client, alice_token.secret, "ActivityLog").get("list"))
    api2 = Api2(client, "alice", alice_token.secret)
    answers.append(api2.call("SSL", "installssl", domain="alice.test", crt=leaf.cert, key=leaf.key, cabundle=""))
    with container.read() as uow:
        rows = uow.connection.execute(text("SELECT * FROM certificates")).all()  # type: ignore[attr-defined]
        audit = uow.connection.execute(text("SELECT * FROM audit_events")).all()  # type: ignore[attr-defined]
    stored = repr(rows).encode() + repr(audit).encode()
    shown = json.dumps(answers).encode() + caplog.text.encode()
    for piece in key_material(leaf.key):
        assert piece not in stored and piece not in shown
    assert b"PRIVATE KEY" not in stored and b"PRIVATE KEY" not in shown
    database = container.settings.database_url_or_default
    if database.startswith("sqlite:///"):
        raw = Path(database.removeprefix("sqlite:///")).read_bytes()
        assert all(piece not in raw for piece in key_material(leaf.key))


def test_a_key_sealed_for_one_domain_does_not_open_for_another(ssl: Calls, container: Container) -> None:
    leaf = CA.leaf("alice.test")
    ssl.post("install_ssl", domain="alice.test", cert=leaf.cert, key=leaf.key, cabundle=leaf.cabundle)
    with container.read() as uow:
        (stored,) = uow.certificates.all(1)
    box = SecretBox(container.keys.derive("certificate-key"))
    assert box.open(stored.sealed_key, key_context(stored.account_id, "alice.test")).decode() == leaf.key
    assert "sealed_key" not in repr(stored) and "PRIVATE" not in repr(stored)
    with pytest.raises(SealError):
        box.open(stored.sealed_key, key_context(stored.account_id, "www.alice.test"))


def test_api2_installssl_answers_as_certbots_installer_reads_it(
    client: TestClient, alice_token: IssuedToken, container: Container
) -> None:
    api2 = Api2(client, "alice", alice_token.secret)
    leaf = CA.leaf("alice.test")
    (ok,) = api2.data("SSL", "installssl", domain="alice.test", crt=leaf.cert, key=leaf.key, cabundle=leaf.cabundle)
    assert ok["result"] == 1 and "alice.test" in ok["output"]
    other = CA.leaf("alice.test")
    body = api2.call("SSL", "installssl", domain="alice.test", crt=other.cert, key=leaf.key, cabundle=other.cabundle)
    assert body["data"][0]["result"] == 0 and body["data"][0]["output"] == body["error"]
    assert "does not match the private key" in body["error"]
    assert (certs_dir(container) / "alice.test.key").read_text() == leaf.key  # the first one stays


def test_a_certificate_robots_token_installs_certificates_and_nothing_else(
    client: TestClient, container: Container, alice: Account
) -> None:
    robot = make_token(container, alice, "robot", Permissions.of([Scope.parse("ssl:write")]))
    leaf = CA.leaf("alice.test")
    calls = Calls(client, robot.secret, "SSL")
    calls.post("install_ssl", domain="alice.test", cert=leaf.cert, key=leaf.key, cabundle=leaf.cabundle)
    assert (
        Api2(client, "alice", robot.secret).data(
            "SSL", "installssl", domain="alice.test", crt=leaf.cert, key=leaf.key, cabundle=leaf.cabundle
        )[0]["result"]
        == 1
    )
    for module, function, args in [
        ("DNS", "parse_zone", {"zone": "alice.test"}),
        ("Fileman", "list_files", {"dir": "/"}),
        ("Tokens", "list", {}),
        ("Email", "list_pops", {}),
    ]:
        assert "scope" in Calls(client, robot.secret, module).error(function, **args)
    dns_only = make_token(container, alice, "certbot", Permissions.of([Scope.parse("dns:write")]))
    assert "“ssl:write” scope" in Calls(client, dns_only.secret, "SSL").error(
        "install_ssl", domain="alice.test", cert=leaf.cert, key=leaf.key
    )
    reader = make_token(container, alice, "reader", Permissions.of([Scope.parse("ssl:read")]))
    assert Calls(client, reader.secret, "SSL").get("list_certs")["data"]
    assert "“ssl:write” scope" in Calls(client, reader.secret, "SSL").error("delete_ssl", domain="alice.test")


def test_the_sslinstall_feature_switched_off_refuses_every_function(ssl: Calls, container: Container) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["sslinstall"], [])
        uow.commit()
    assert "sslinstall" in ssl.error("list_certs")
    leaf = CA.leaf("alice.test")
    assert "sslinstall" in ssl.error("install_ssl", domain="alice.test", cert=leaf.cert, key=leaf.key)


def test_a_deleted_accounts_certificate_is_no_longer_served(ssl: Calls, container: Container) -> None:
    leaf = CA.leaf("alice.test")
    ssl.post("install_ssl", domain="alice.test", cert=leaf.cert, key=leaf.key, cabundle=leaf.cabundle)
    make_account(container, "bob", domains=("bob.test",))
    with container.uow() as uow:
        container.accounts(uow).delete("alice")
        uow.commit()
    assert container.forget_orphan_certificates() == ["alice.test.crt", "alice.test.key"]
    assert list(certs_dir(container).iterdir()) == []
