"""Attacks on the zone editor: a token limited to ACME challenges trying to do more, other accounts' zones, and
input crafted to forge zone-file lines or to be too big. Every refusal changes nothing, here or at the nameserver."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import Api2, Calls, make_account, make_token, served, served_serial

SERVED = pytest.mark.usefixtures("nameserver")  # the nameserver is asked: nothing changed there either
ZONE = "alice.test"


def record(dname: str, kind: str, *data: str, ttl: int = 60, line: int | None = None) -> str:
    value: dict[str, Any] = {"dname": dname, "ttl": ttl, "record_type": kind, "data": list(data)}
    if line is not None:
        value["line_index"] = line
    return json.dumps(value)


@pytest.fixture
def acme(client: TestClient, alice_token: IssuedToken) -> str:
    """A token made as a certificate robot's: DNS writes, only _acme-challenge TXT records."""
    created = Calls(client, alice_token.secret, "Tokens").post(
        "create", name="acme", scope="dns:write", dns_name="_acme-challenge", dns_type="TXT"
    )["data"]
    assert (created["dns_names"], created["dns_types"], created["scopes"]) == (
        ["_acme-challenge"],
        ["TXT"],
        ["dns:write"],
    )
    return str(created["token"])


def snapshot(client: TestClient, secret: str) -> Any:
    return Calls(client, secret, "DNS").get("parse_zone", zone=ZONE)["data"]


def serial(client: TestClient, secret: str) -> str:
    soa = next(i for i in snapshot(client, secret) if i.get("record_type") == "SOA")
    return base64.b64decode(soa["data_b64"][2]).decode()


def lines(client: TestClient, secret: str, kind: str, dname: str) -> list[int]:
    return [
        item["line_index"]
        for item in snapshot(client, secret)
        if item.get("record_type") == kind and base64.b64decode(item["dname_b64"]).decode() == dname
    ]


@SERVED
def test_the_challenge_token_reads_what_clients_read(client: TestClient, acme: str) -> None:
    assert Calls(client, acme, "DNS").get("parse_zone", zone=ZONE)["status"] == 1
    assert Calls(client, acme, "DomainInfo").get("list_domains")["data"]["main_domain"] == ZONE
    api2 = Api2(client, "alice", acme)
    assert ZONE in api2.data("ZoneEdit", "fetchzones")[0]["zones"]
    assert api2.data("ZoneEdit", "fetchzone_records", domain=ZONE, type="SOA")
    assert api2.data("CustInfo", "displaycontactinfo")


@SERVED
def test_the_challenge_token_adds_and_removes_challenges_for_the_zone_and_its_subdomains(
    client: TestClient, acme: str, settings: Settings
) -> None:
    dns = Calls(client, acme, "DNS")
    for name in ("_acme-challenge", "_acme-challenge.shop", "_acme-challenge.a.b"):
        dns.post("mass_edit_zone", zone=ZONE, serial=serial(client, acme), add=record(name, "TXT", "token"))
        assert served(settings, f"{name}.{ZONE}", "TXT") == ["token"]
        (line,) = lines(client, acme, "TXT", name)
        dns.post("mass_edit_zone", zone=ZONE, serial=serial(client, acme), remove=str(line))
        assert served(settings, f"{name}.{ZONE}", "TXT") == []


@SERVED
@pytest.mark.parametrize(
    "change",
    [
        {"add": record("www", "A", "192.0.2.66")},
        {"add": record("evil", "TXT", "x")},
        {"add": record("_acme-challenge", "CNAME", "evil.example.")},
        {"add": record("_acme-challenge", "A", "192.0.2.66")},
        {"add": record("_acme-challenge-x", "TXT", "x")},
        {"add": record("x._acme-challenge", "TXT", "x")},
        {"add": record("@", "TXT", "v=spf1 +all")},
        {"add": record("*", "TXT", "x")},
        {"add": [record("_acme-challenge", "TXT", "ok"), record("evil", "TXT", "x")]},  # one forbidden: nothing
    ],
)
def test_the_challenge_token_is_refused_anything_else_and_nothing_changes(
    client: TestClient,
    acme: str,
    alice_token: IssuedToken,
    container: Container,
    settings: Settings,
    change: dict[str, Any],
) -> None:
    before, number = snapshot(client, alice_token.secret), served_serial(settings, ZONE)
    body = Calls(client, acme, "DNS").post("mass_edit_zone", status=0, zone=ZONE, serial=serial(client, acme), **change)
    assert "This API token may only change" in body["errors"][0] and "nothing was changed" in body["errors"][0]
    assert snapshot(client, alice_token.secret) == before and served_serial(settings, ZONE) == number
    assert served(settings, "_acme-challenge.alice.test", "TXT") == []
    with container.uow(write=False) as uow:
        (event,) = uow.audit.query(AuditQuery(actions=("account:restriction:denied",)))
    assert event.target == "DNS::mass_edit_zone" and event.details["restriction"] in ("dns_names", "dns_types")


@SERVED
def test_the_challenge_token_cannot_repoint_or_remove_the_apex_a(
    client: TestClient, acme: str, alice_token: IssuedToken, settings: Settings
) -> None:
    (line,) = lines(client, acme, "A", "alice.test.")
    dns = Calls(client, acme, "DNS")
    for change in (
        {"edit": record("alice.test.", "A", "192.0.2.99", line=line)},
        {"edit": record("_acme-challenge", "TXT", "disguised", line=line)},  # its old self is not a challenge
        {"remove": str(line)},
    ):
        body = dns.post("mass_edit_zone", status=0, zone=ZONE, serial=serial(client, acme), **change)
        assert "This API token may only change" in body["errors"][0]
    assert served(settings, "alice.test", "A") == ["127.0.0.1"]
    # A challenge record cannot be edited into something else either.
    dns.post("mass_edit_zone", zone=ZONE, serial=serial(client, acme), add=record("_acme-challenge", "TXT", "t"))
    (challenge,) = lines(client, acme, "TXT", "_acme-challenge")
    body = dns.post(
        "mass_edit_zone",
        status=0,
        zone=ZONE,
        serial=serial(client, acme),
        edit=record("www", "TXT", "t", line=challenge),
    )
    assert "may only change DNS records named _acme-challenge" in body["errors"][0]


@SERVED
def test_the_challenge_token_through_api2(client: TestClient, acme: str, settings: Settings) -> None:
    api2 = Api2(client, "alice", acme)
    (added,) = api2.data("ZoneEdit", "add_zone_record", domain=ZONE, name="_acme-challenge", type="TXT", txtdata="v")
    assert added["result"]["status"] == 1
    body = api2.call("ZoneEdit", "add_zone_record", domain=ZONE, name="shop", type="A", address="192.0.2.67")
    assert body["event"]["result"] == 0 and "may only change" in body["error"]
    assert body["data"][0]["result"]["newserial"] is None
    www = [r["line"] for r in api2.data("ZoneEdit", "fetchzone_records", domain=ZONE, name="www.alice.test.", type="A")]
    body = api2.call("ZoneEdit", "remove_zone_record", domain=ZONE, line=str(www[0]))
    assert "may only change" in body["error"]
    assert served(settings, "shop.alice.test", "A") == [] and served(settings, "www.alice.test", "A") == ["127.0.0.1"]


def test_the_challenge_token_cannot_make_tokens_nor_shed_its_limits(
    client: TestClient, acme: str, alice_token: IssuedToken, container: Container, alice: Account
) -> None:
    body = Calls(client, acme, "Tokens").post("create_full_access", status=0, name="escalated")
    assert "tokens:write" in body["errors"][0]
    # Even a token that may create tokens keeps its DNS limits in every token it makes.
    maker = Calls(client, alice_token.secret, "Tokens").post(
        "create", name="maker", scope=["dns:write", "tokens:write"], dns_name="_acme-challenge", dns_type="TXT"
    )["data"]["token"]
    tokens = Calls(client, maker, "Tokens")
    for looser in (
        {},
        {"dns_name": "_acme-challenge"},
        {"dns_name": "www", "dns_type": "TXT"},
        {"dns_type": ["TXT", "A"], "dns_name": "_acme-challenge"},
    ):
        body = tokens.post("create", status=0, name="child", scope="dns:write", **looser)
        assert "at least as restricted as itself" in body["errors"][0]
    narrower = tokens.post("create", name="child", scope="dns:write", dns_name="_acme-challenge.shop", dns_type="TXT")
    assert narrower["data"]["dns_names"] == ["_acme-challenge.shop"]


@pytest.mark.parametrize(
    ("names", "types", "message"),
    [
        (["@"], [], "not a record name relative to the zone"),
        (["_acme-challenge.alice.test."], [], None),  # a final dot is taken off: relative all the same
        (["*.x"], [], "not a record name"),
        (["a b"], [], "not a record name"),
        ([], ["SOA"], "not a record type that can be changed"),
        ([], ["BOGUS"], "not a record type that can be changed"),
    ],
)
def test_restriction_values_are_checked(
    client: TestClient, alice_token: IssuedToken, names: list[str], types: list[str], message: str | None
) -> None:
    tokens = Calls(client, alice_token.secret, "Tokens")
    body = tokens.post("create", status=None, name="t", scope="dns:write", dns_name=names, dns_type=types)
    if message is None:
        assert body["status"] == 1
    else:
        assert body["status"] == 0 and message in body["errors"][0]


@SERVED
def test_another_accounts_token_cannot_touch_this_zone(
    client: TestClient, container: Container, alice: Account, settings: Settings
) -> None:
    bob = make_account(container, "bob", domains=("bob.test",))
    secret = make_token(container, bob, "bob").secret
    dns = Calls(client, secret, "DNS")
    dns.headers = {"Authorization": f"cpanel bob:{secret}"}
    number = str(served_serial(settings, ZONE))
    assert dns.post("parse_zone", status=0, zone=ZONE)["data"] is None
    body = dns.post("mass_edit_zone", status=0, zone=ZONE, serial=number, add=record("_acme-challenge", "TXT", "x"))
    assert body["errors"] == ["You do not control a DNS zone named “alice.test”."]
    api2 = Api2(client, "bob", secret)
    assert api2.call("ZoneEdit", "fetchzone_records", domain=ZONE)["event"]["result"] == 0
    # Naming alice in cpanel_jsonapi_user does not make bob's token hers.
    response = client.get(
        "/json-api/cpanel",
        params={"cpanel_jsonapi_user": "alice", "cpanel_jsonapi_apiversion": "2", "cpanel_jsonapi_module": "ZoneEdit",
                "cpanel_jsonapi_func": "add_zone_record", "domain": ZONE, "name": "x", "type": "TXT", "txtdata": "y"},
        headers={"Authorization": f"cpanel bob:{secret}"},
    )  # fmt: skip
    assert "belongs to “bob”, not “alice”" in response.json()["cpanelresult"]["error"]
    assert served(settings, "_acme-challenge.alice.test", "TXT") == [] and served(settings, "x.alice.test", "TXT") == []


@SERVED
@pytest.mark.parametrize(
    "data",
    [
        ["ok\nwww 60 IN A 192.0.2.66"],  # a second zone-file line
        ["ok\r\n$INCLUDE /etc/passwd"],
        ["nul\0byte"],
        ["\x1b[31mred"],
    ],
)
def test_record_data_cannot_forge_zone_file_lines(
    client: TestClient, alice_token: IssuedToken, settings: Settings, data: list[str]
) -> None:
    dns = Calls(client, alice_token.secret, "DNS")
    body = dns.post(
        "mass_edit_zone", status=0, zone=ZONE, serial=serial(client, alice_token.secret), add=record("x", "TXT", *data)
    )
    assert body["errors"]
    assert served(settings, "x.alice.test", "TXT") == [] and "192.0.2.66" not in served(settings, "www.alice.test", "A")


@SERVED
def test_quotes_and_backslashes_are_data_not_syntax(
    client: TestClient, alice_token: IssuedToken, settings: Settings
) -> None:
    tricky = '" ; www 60 IN A 192.0.2.66 ; \\" \\\\'
    dns = Calls(client, alice_token.secret, "DNS")
    dns.post("mass_edit_zone", zone=ZONE, serial=serial(client, alice_token.secret), add=record("x", "TXT", tricky))
    assert served(settings, "x.alice.test", "TXT", tcp=True) == [tricky]
    lines = Api2(client, "alice", alice_token.secret).data("ZoneEdit", "fetchzones")[0]["zones"][ZONE]
    assert len([line for line in lines if "192.0.2.66" in line]) == 1  # inside the quoted string, on the TXT's line
    assert "192.0.2.66" not in served(settings, "www.alice.test", "A")


@pytest.mark.parametrize(
    "dname",
    ["x\nwww", "x y", "x;y", "x.bob.test.", "x." + "a" * 250, "../../etc", "x\\.y", "ü"],
)
def test_names_cannot_escape_the_zone_or_be_more_than_host_names(
    client: TestClient, alice_token: IssuedToken, dname: str
) -> None:
    dns = Calls(client, alice_token.secret, "DNS")
    body = dns.post(
        "mass_edit_zone", status=0, zone=ZONE, serial=serial(client, alice_token.secret), add=record(dname, "TXT", "x")
    )
    assert body["errors"]


@SERVED
def test_oversized_input_is_refused(client: TestClient, alice_token: IssuedToken, settings: Settings) -> None:
    dns = Calls(client, alice_token.secret, "DNS")
    number = serial(client, alice_token.secret)
    body = dns.post("mass_edit_zone", status=0, zone=ZONE, serial=number, add=record("x", "TXT", "y" * 5000))
    assert "at most 4000 bytes" in body["errors"][0]
    body = dns.post(
        "mass_edit_zone", status=0, zone=ZONE, serial=number, add=record("x", "CAA", "0", "issue", "c" * 2000)
    )
    assert "1 to 1000 bytes" in body["errors"][0]
    huge = client.post(
        "/execute/DNS/mass_edit_zone",
        data={"zone": ZONE, "serial": number, "add": record("x", "TXT", "y" * 2_000_000)},
        headers={"Authorization": f"cpanel alice:{alice_token.secret}"},
    )
    assert huge.status_code == 413
    assert served_serial(settings, ZONE) == int(number)
