"""`hostpanel dns ...` and the token options for DNS, as real processes, against a real PowerDNS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostpanel.config import Settings
from hostpanel.nameserver.pdns import PowerDns
from tests.factories import PASSWORD, ask, served, served_serial
from tests.processes import environment, error_line, hostpanel

ZONE = "alice.test"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    built = environment(tmp_path / "var")
    hostpanel(built, "init")
    hostpanel(built, "account", "create", "alice", "--password-stdin", "--domain", ZONE, stdin=PASSWORD + "\n")
    return built


@pytest.fixture
def settings_of(env: dict[str, str]) -> Settings:
    return Settings(home=Path(env["HOSTPANEL_HOME"]), dns_listen=env["HOSTPANEL_DNS_LISTEN"])


@pytest.fixture
def nameserver(settings_of: Settings) -> Iterator[PowerDns]:
    server = PowerDns(settings_of)
    server.start()
    yield server
    server.stop()


def records(env: dict[str, str]) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = json.loads(hostpanel(env, "dns", "list", ZONE, "--json").stdout)
    return listed


def test_list_add_remove_export_import_served_at_once(
    env: dict[str, str], nameserver: PowerDns, settings_of: Settings, tmp_path: Path
) -> None:
    zones = json.loads(hostpanel(env, "dns", "list", "--json").stdout)
    assert zones == [{"zone": ZONE, "account": "alice", "serial": served_serial(settings_of, ZONE), "records": 15}]
    added = hostpanel(env, "dns", "add", ZONE, "_acme-challenge", "TXT", "hello world", "--ttl", "60")
    assert "Added TXT _acme-challenge.alice.test" in added.stdout
    assert served(settings_of, "_acme-challenge.alice.test", "TXT") == ["hello world"]
    line = next(r["line"] for r in records(env) if r["type"] == "TXT" and r["data"] == ["hello world"])
    hostpanel(env, "dns", "remove", ZONE, str(line))
    assert served(settings_of, "_acme-challenge.alice.test", "TXT") == []
    # Out in BIND syntax, edited, and in again (from a file, then from standard input).
    text = hostpanel(env, "dns", "export", ZONE).stdout
    assert text.startswith("; cPanel first") and "\tIN\tSOA\t" in text
    edited = tmp_path / "alice.zone"
    edited.write_text(
        text.replace("127.0.0.1", "192.0.2.80") + 'extra 300 IN TXT "imported"\n@ 300 IN MX 10 mx.example.net.\n'
    )
    hostpanel(env, "dns", "import", ZONE, str(edited))
    assert served(settings_of, "www.alice.test", "A") == ["192.0.2.80"]
    assert served(settings_of, "extra.alice.test", "TXT", tcp=True) == ["imported"]
    assert "10 mx.example.net." in served(settings_of, ZONE, "MX")
    assert "extra.alice.test" in hostpanel(env, "dns", "list", ZONE).stdout
    hostpanel(env, "dns", "import", ZONE, "-", stdin=text)
    assert served(settings_of, "www.alice.test", "A") == ["127.0.0.1"]
    assert served(settings_of, "extra.alice.test", "TXT") == []
    for args, message in (
        (("dns", "list", "nope.test"), "There is no DNS zone named “nope.test”."),
        (("dns", "add", ZONE, "x", "A", "999.0.0.1"), "not a valid IPv4 address"),
        (("dns", "add", ZONE, "x.bob.test.", "TXT", "y"), "outside the current DNS zone"),
        (("dns", "remove", ZONE, "4"), "SOA record"),
        (("dns", "import", ZONE, "/nonexistent/zone"), "cannot read /nonexistent/zone"),
    ):
        assert message in error_line(hostpanel(env, *args, check=False)), args
    # The account goes, and its zone with it: the nameserver no longer answers for it.
    hostpanel(env, "account", "delete", "alice", "--yes")
    assert json.loads(hostpanel(env, "dns", "list", "--json").stdout) == []
    assert ask(settings_of, ZONE, "SOA").rcode() == 5  # REFUSED: not a zone of this nameserver any more


def test_without_a_nameserver_a_change_is_refused_unless_offline(env: dict[str, str], settings_of: Settings) -> None:
    message = error_line(hostpanel(env, "dns", "add", ZONE, "late", "TXT", "x", check=False))
    assert "does not answer" in message and "nothing was changed" in message
    assert not any(r["name"] == "late.alice.test" for r in records(env))
    hostpanel(env, "dns", "add", ZONE, "late", "TXT", "x", "--offline")
    server = PowerDns(settings_of)
    server.start()
    try:
        assert served(settings_of, "late.alice.test", "TXT") == ["x"]
    finally:
        server.stop()


def test_a_certificate_robots_token_on_the_command_line(env: dict[str, str]) -> None:
    created = json.loads(
        hostpanel(env, "token", "create", "alice", "acme", "--scope", "dns:write", "--acme-challenges", "--json").stdout
    )
    assert (created["dns_names"], created["dns_types"]) == (["_acme-challenge"], ["TXT"])
    created = json.loads(
        hostpanel(env, "token", "create", "alice", "www", "--scope", "dns:write", "--dns-name", "www", "--json").stdout
    )
    assert (created["dns_names"], created["dns_types"]) == (["www"], None)
    listed = json.loads(hostpanel(env, "token", "list", "alice", "--json").stdout)
    assert [(t["name"], t["dns_names"], t["dns_types"]) for t in listed] == [
        ("acme", ["_acme-challenge"], ["TXT"]),
        ("www", ["www"], None),
    ]
    message = error_line(hostpanel(env, "token", "create", "alice", "bad", "--dns-type", "SOA", check=False))
    assert "not a record type that can be changed" in message
