"""UAPI `DNS::parse_zone` and `DNS::mass_edit_zone` against a real PowerDNS: cPanel's shapes, the serial check, batches
applied whole or not at all, and every change answered by the nameserver (UDP and TCP) when the call returns."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.nameserver.pdns import PowerDns
from tests.factories import Calls, auth, make_account, make_token, served, served_serial

pytestmark = pytest.mark.usefixtures("nameserver")
ZONE = "alice.test"


def decoded(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        if item["type"] != "record":
            out.append({**item, "text": base64.b64decode(item["text_b64"]).decode()})
            continue
        dname = base64.b64decode(item["dname_b64"]).decode()
        out.append({**item, "dname": dname, "data": [base64.b64decode(d).decode() for d in item["data_b64"]]})
    return out


def zone(dns: Calls) -> tuple[list[dict[str, Any]], str]:
    items = decoded(dns.get("parse_zone", zone=ZONE)["data"])
    soa = next(item for item in items if item.get("record_type") == "SOA")
    return items, soa["data"][2]


def txt(dname: str, value: str, ttl: int = 300) -> str:
    return json.dumps({"dname": dname, "ttl": ttl, "record_type": "TXT", "data": [value]})


@pytest.fixture
def dns(client: TestClient, alice_token: IssuedToken) -> Calls:
    return Calls(client, alice_token.secret, "DNS")


def test_parse_zone_answers_as_cpanel_does(client: TestClient, dns: Calls, alice_token: IssuedToken) -> None:
    response = client.get("/execute/DNS/parse_zone", params={"zone": ZONE}, headers=auth("alice", alice_token.secret))
    text = response.text
    # Compact JSON: acme.sh reads it with text patterns.
    assert '"status":1' in text and '"record_type":"SOA"' in text and ": " not in text and '"line_index":3' in text
    body = response.json()
    assert body["metadata"] == {"transformed": 1}
    items = decoded(body["data"])
    assert [item["line_index"] for item in items] == sorted(item["line_index"] for item in items)
    assert items[0]["type"] == "comment" and items[0]["text"].startswith("; cPanel first")
    assert items[2] == {**items[2], "type": "control", "text": "$TTL 14400"}
    soa = items[3]
    assert (soa["line_index"], soa["record_type"], soa["dname"], soa["ttl"]) == (3, "SOA", "alice.test.", 86400)
    assert len(soa["data"]) == 7 and soa["data"][2].isdigit() and soa["data"][0] == "ns1.alice.test."
    names = {(item["dname"], item["record_type"]) for item in items[4:]}
    assert ("alice.test.", "NS") in names and ("www", "A") in names and ("mail", "AAAA") in names
    for item in body["data"]:  # standard base64, padded, on one line
        for value in [*item.get("data_b64", []), item.get("dname_b64") or item.get("text_b64")]:
            assert base64.b64encode(base64.b64decode(value)).decode() == value and "\n" not in value


def test_mass_edit_adds_edits_and_removes_and_the_nameserver_answers_at_once(dns: Calls, settings: Settings) -> None:
    _, serial = zone(dns)
    assert served_serial(settings, ZONE) == int(serial)
    added = dns.post(
        "mass_edit_zone",
        zone=ZONE,
        serial=serial,
        add=[txt("_acme-challenge", "one"), txt("_acme-challenge.alice.test.", "two")],
    )["data"]
    new = added["new_serial"]
    assert isinstance(new, str) and int(new) > int(serial)
    for tcp in (False, True):
        assert served(settings, "_acme-challenge.alice.test", "TXT", tcp) == ["one", "two"]
        assert served_serial(settings, ZONE, tcp) == int(new)
    items, serial = zone(dns)
    lines = {item["data"][0]: item["line_index"] for item in items if item.get("record_type") == "TXT"}
    assert [item["dname"] for item in items if item.get("data") == ["one"]] == ["_acme-challenge"]  # relative
    edit = json.dumps(
        {"line_index": lines["one"], "dname": "www", "ttl": 60, "record_type": "A", "data": ["192.0.2.77"]}
    )
    new = dns.post("mass_edit_zone", zone=ZONE, serial=serial, edit=edit, remove=str(lines["two"]))["data"][
        "new_serial"
    ]
    assert served(settings, "_acme-challenge.alice.test", "TXT") == []
    assert "192.0.2.77" in served(settings, "www.alice.test", "A", tcp=True)
    after, _ = zone(dns)
    assert next(i for i in after if i.get("data") == ["192.0.2.77"])["line_index"] == lines["one"]  # in place
    assert served_serial(settings, ZONE) == int(new)


def test_a_stale_serial_is_refused_and_changes_nothing(dns: Calls, settings: Settings) -> None:
    _, serial = zone(dns)
    dns.post("mass_edit_zone", zone=ZONE, serial=serial, add=txt("a", "first"))
    body = dns.post("mass_edit_zone", status=0, zone=ZONE, serial=serial, add=txt("b", "second"))
    assert body["data"] == {"type": "Stale", "detail": None}
    assert body["errors"] == [
        f"The given serial number ({serial}) does not match the DNS zone’s serial number "
        f"({served_serial(settings, ZONE)}). Refresh your view of the DNS zone, then resubmit."
    ]
    assert served(settings, "b.alice.test", "TXT") == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "add": [
                    txt("ok", "fine"),
                    json.dumps({"dname": "bad", "ttl": 60, "record_type": "A", "data": ["999.1.1.1"]}),
                ]
            },
            "not a valid IPv4",
        ),
        (
            {
                "add": [
                    txt("ok", "fine"),
                    json.dumps({"dname": "x.bob.test.", "ttl": 60, "record_type": "A", "data": ["192.0.2.1"]}),
                ]
            },
            "outside",
        ),
        (
            {
                "add": [
                    txt("ok", "fine"),
                    json.dumps({"dname": "www", "ttl": 60, "record_type": "CNAME", "data": ["alice.test."]}),
                ]
            },
            "CNAME",
        ),
        ({"add": [txt("ok", "fine"), txt("x", "y", ttl=0)]}, "Time-To-Live"),
        (
            {
                "add": [
                    txt("ok", "fine"),
                    json.dumps({"dname": "ns", "ttl": 60, "record_type": "NS", "data": ["ns.example."]}),
                ]
            },
            "cannot create or change “NS”",
        ),
        (
            {
                "add": [
                    txt("ok", "fine"),
                    json.dumps({"dname": "x", "ttl": 60, "record_type": "HINFO", "data": ["a", "b"]}),
                ]
            },
            "not a record type",
        ),
        ({"add": [txt("ok", "fine"), '["not", "an", "object"]']}, "Each “add” must be an object."),
        ({"add": [txt("ok", "fine"), "{not json"]}, "Each “add” must be an object."),
        (
            {"add": [txt("ok", "fine"), json.dumps({"dname": "x", "ttl": 60})]},
            "requires “dname”, “ttl”, “record_type”, and “data”",
        ),
        (
            {"add": [txt("ok", "fine"), json.dumps({"dname": "x", "ttl": 60, "record_type": "TXT", "data": "y"})]},
            "“data” must be an array.",
        ),
        ({"add": txt("ok", "fine"), "remove": "3"}, "SOA record"),
        ({"add": txt("ok", "fine"), "remove": "-1"}, "nonnegative integer"),
        ({"add": txt("ok", "fine"), "remove": "9999"}, "No record exists at line 9999"),
        ({}, "at least one change"),
    ],
)
def test_a_batch_with_any_bad_change_is_refused_whole(
    dns: Calls, settings: Settings, change: dict[str, Any], message: str
) -> None:
    before, serial = zone(dns)
    body = dns.post("mass_edit_zone", status=0, zone=ZONE, serial=serial, **change)
    assert message in body["errors"][0], body
    assert zone(dns) == (before, serial)
    assert served(settings, "ok.alice.test", "TXT") == [] and served_serial(settings, ZONE) == int(serial)


def test_removing_every_apex_ns_is_refused(dns: Calls, container: Container, alice: Account) -> None:
    items, serial = zone(dns)
    lines = [str(i["line_index"]) for i in items if i.get("record_type") == "NS"]
    # The UAPI cannot change NS records at all; the service refuses a zone without one whoever asks.
    body = dns.post("mass_edit_zone", status=0, zone=ZONE, serial=serial, remove=lines)
    assert "“NS”" in body["errors"][0]


def test_the_zone_limit_holds(client: TestClient, container: Container, alice: Account, settings: Settings) -> None:
    token = make_token(container, alice, "robot").secret
    dns = Calls(client, token, "DNS")
    _, serial = zone(dns)
    count = len(zone(dns)[0]) - 3  # records (the SOA included)
    adds = [txt(f"r{n}", "x") for n in range(settings.dns_max_records - count + 1)]
    body = dns.post("mass_edit_zone", status=0, zone=ZONE, serial=serial, add=adds)
    assert f"at most {settings.dns_max_records} records" in body["errors"][0]
    assert dns.post("mass_edit_zone", zone=ZONE, serial=serial, add=adds[:-1])["status"] == 1


def test_a_zone_not_the_callers_is_answered_as_cpanel_does(
    dns: Calls, container: Container, settings: Settings
) -> None:
    make_account(container, "bob", domains=("bob.test",))
    for name in ("bob.test", "nope.test", "", "alice.test.evil"):
        assert dns.post("parse_zone", status=0, zone=name)["data"] is None
    assert dns.post("parse_zone", status=0, zone="nope.test")["errors"] == [
        "You do not control a DNS zone named “nope.test”."
    ]
    serial = str(served_serial(settings, "bob.test"))
    body = dns.post("mass_edit_zone", status=0, zone="bob.test", serial=serial, add=txt("x", "y"))
    assert body["errors"] == ["You do not control a DNS zone named “bob.test”."]
    assert served(settings, "x.bob.test", "TXT") == []


def test_the_zone_name_forgives_case_and_a_final_dot(dns: Calls) -> None:
    assert dns.get("parse_zone", zone="Alice.Test.")["status"] == 1


def test_list_domains_names_the_main_and_addon_domains(client: TestClient, container: Container) -> None:
    account = make_account(container, "carol", domains=("carol.test", "shop.example"))
    domains = Calls(client, make_token(container, account, "t").secret, "DomainInfo")
    domains.headers = auth("carol", make_token(container, account, "t2").secret)
    assert domains.get("list_domains")["data"] == {
        "main_domain": "carol.test",
        "addon_domains": ["shop.example"],
        "parked_domains": [],
        "sub_domains": [],
    }


def test_a_restarted_nameserver_serves_what_was_committed(dns: Calls, nameserver: PowerDns, settings: Settings) -> None:
    _, serial = zone(dns)
    dns.post("mass_edit_zone", zone=ZONE, serial=serial, add=txt("kept", "yes"))
    nameserver.stop()
    nameserver.start()
    assert served(settings, "kept.alice.test", "TXT") == ["yes"]
