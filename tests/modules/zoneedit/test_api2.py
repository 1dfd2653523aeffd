"""cPanel API 2 `ZoneEdit` and `CustInfo` against a real PowerDNS, as acme.sh and certbot-dns-cpanel call them."""

from __future__ import annotations

from typing import Any

import dns.flags
import pytest
from starlette.testclient import TestClient

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import Api2, Calls, ask, make_account, make_token, served, served_serial

pytestmark = pytest.mark.usefixtures("nameserver")
ZONE = "alice.test"
CHALLENGE = "_acme-challenge.alice.test."


@pytest.fixture
def api2(client: TestClient, alice_token: IssuedToken) -> Api2:
    return Api2(client, "alice", alice_token.secret)


def add(api2: Api2, value: str, name: str = "_acme-challenge", ttl: str = "60") -> dict[str, object]:
    result: dict[str, object] = api2.data(
        "ZoneEdit", "add_zone_record", domain=ZONE, name=name, type="TXT", txtdata=value, ttl=ttl
    )[0]["result"]
    return result


def challenge_lines(api2: Api2, value: str) -> list[int]:
    records = api2.data(
        "ZoneEdit", "fetchzone_records", domain=ZONE, name=CHALLENGE, type="TXT", txtdata=value, ttl="60"
    )
    return [record["line"] for record in records]


def test_fetchzones_lists_each_zone_as_its_lines_longest_first(
    api2: Api2, client: TestClient, container: Container, alice: Account
) -> None:
    with container.uow() as uow:
        container.accounts(uow).add_domain("alice", "shop.alice.test")
        container.accounts(uow).add_domain("alice", "zz.test")
        uow.commit()
    response = api2.raw("ZoneEdit", "fetchzones")
    assert '"alice.test":["; cPanel first' in response.text  # what acme.sh greps for
    (entry,) = api2.data("ZoneEdit", "fetchzones")
    assert (entry["status"], entry["statusmsg"]) == (1, "Zones fetched")
    assert list(entry["zones"]) == ["shop.alice.test", "alice.test", "zz.test"]
    lines = entry["zones"][ZONE]
    assert lines[1] == "; Zone file for alice.test" and lines[2] == "$TTL 14400"
    assert lines[3].startswith("alice.test.\t86400\tIN\tSOA\tns1.alice.test.\t")


def test_certbot_dns_cpanels_exchange_adds_finds_and_removes_two_values(api2: Api2, settings: Settings) -> None:
    first, second = "kH0tWb4cXq8oJm1E2u3Y4t5R6e7W8q9A0s1D2f3G4h5", "zZ9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8cB7aA6_"
    for value in (first, second):
        result = add(api2, value)
        assert result["status"] == 1 and isinstance(result["newserial"], int)
        assert served_serial(settings, ZONE) == result["newserial"]
    for tcp in (False, True):
        assert served(settings, CHALLENGE, "TXT", tcp) == sorted([first, second])
    (record,) = api2.data(
        "ZoneEdit", "fetchzone_records", domain=ZONE, name=CHALLENGE, type="TXT", txtdata=first, ttl="60"
    )
    assert {key: record[key] for key in ("name", "class", "ttl", "type", "txtdata", "record", "unencoded")} == {
        "name": CHALLENGE,
        "class": "IN",
        "ttl": 60,
        "type": "TXT",
        "txtdata": first,
        "record": first,
        "unencoded": 1,
    }
    assert record["Line"] == record["line"] and isinstance(record["line"], int)
    for value in (first, second):
        for line in sorted(challenge_lines(api2, value), reverse=True):
            (removed,) = api2.data("ZoneEdit", "remove_zone_record", domain=ZONE, line=str(line))
            assert removed["result"]["status"] == 1
    assert served(settings, CHALLENGE, "TXT") == []


def test_removing_a_line_keeps_the_numbers_of_the_lines_before_it(api2: Api2) -> None:
    for value in ("a", "b", "c"):
        add(api2, value)
    lines = {value: challenge_lines(api2, value)[0] for value in ("a", "b", "c")}
    assert lines["b"] == lines["a"] + 1 and lines["c"] == lines["b"] + 1
    api2.data("ZoneEdit", "remove_zone_record", domain=ZONE, line=str(lines["c"]))
    assert challenge_lines(api2, "b") == [lines["b"]] and challenge_lines(api2, "a") == [lines["a"]]
    api2.data("ZoneEdit", "remove_zone_record", domain=ZONE, line=str(lines["a"]))
    assert challenge_lines(api2, "b") == [lines["a"]]  # the lines after it move up


def test_fetchzone_records_filters_exactly(api2: Api2) -> None:
    add(api2, "value-1")
    add(api2, "value-2", ttl="120")

    def fetch(**filters: str) -> list[Any]:
        return api2.data("ZoneEdit", "fetchzone_records", domain=ZONE, **filters)

    assert [r["txtdata"] for r in fetch(type="TXT", name=CHALLENGE)] == ["value-1", "value-2"]
    assert [r["txtdata"] for r in fetch(type="TXT", ttl="120")] == ["value-2"]
    assert [r["txtdata"] for r in fetch(txtdata="value-1|value-2")] == ["value-1", "value-2"]
    assert fetch(type="TXT", name="_acme-challenge.alice.test") == []  # exact: no final dot, no match
    assert fetch(type="TXT", txtdata="value") == []  # exact, not a substring
    assert fetch(type="") == []  # an empty filter matches nothing
    everything = fetch()
    assert everything[0] == {"Line": 1, "line": 1, "type": ":RAW", "raw": everything[0]["raw"]}
    assert everything[2] == {"Line": 3, "line": 3, "type": "$TTL", "ttl": 14400}
    soa = everything[3]
    assert (soa["type"], soa["Line"], soa["Lines"], soa["mname"], soa["rname"]) == (
        "SOA",
        4,
        7,
        "ns1.alice.test",
        "hostmaster.alice.test",
    )
    custom = fetch(customonly="1")
    assert {r["type"] for r in custom} == {"A", "AAAA", "MX", "TXT"}
    assert fetch(line=str(soa["line"])) == [soa]


def test_edit_zone_record_replaces_in_place_and_checks_serialnum(api2: Api2, settings: Settings) -> None:
    add(api2, "before")
    (line,) = challenge_lines(api2, "before")
    serial = served_serial(settings, ZONE)
    (stale,) = api2.data(
        "ZoneEdit", "edit_zone_record", domain=ZONE, line=str(line), serialnum=str(serial - 1),
        name="_acme-challenge", type="TXT", txtdata="after", ttl="60",
    )  # fmt: skip
    assert stale["result"] == {"status": 0, "statusmsg": "Zone file changed since last read.", "newserial": None}
    (done,) = api2.data(
        "ZoneEdit", "edit_zone_record", domain=ZONE, line=str(line), serialnum=str(serial),
        name="_acme-challenge", type="TXT", txtdata="after", ttl="60",
    )  # fmt: skip
    assert done["result"]["status"] == 1 and challenge_lines(api2, "after") == [line]
    assert served(settings, CHALLENGE, "TXT") == ["after"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "", "type": "TXT", "txtdata": "x"}, "Invalid DNS record: No name provided."),
        ({"name": "x", "type": "HINFO", "txtdata": "x"}, "You may only add A, AAAA, CAA, CNAME, MX, NS, SRV or TXT"),
        ({"name": "x", "type": "A", "address": "999.0.0.1"}, "not a valid IPv4 address"),
        ({"name": "x", "type": "TXT", "txtdata": "x", "ttl": "1m"}, "Invalid DNS record: Bad TTL provided."),
        ({"name": "x", "type": "TXT", "txtdata": "x", "class": "CH"}, "only the IN class"),
        ({"name": "www", "type": "CNAME", "cname": "elsewhere.test."}, "has a CNAME record"),
        ({"name": "x.bob.test.", "type": "TXT", "txtdata": "x"}, "outside the current DNS zone"),
    ],
)
def test_bad_records_are_answered_in_data_with_a_null_newserial(
    api2: Api2, settings: Settings, args: dict[str, str], message: str
) -> None:
    serial = served_serial(settings, ZONE)
    response = api2.raw("ZoneEdit", "add_zone_record", domain=ZONE, **args)
    assert '"newserial":null' in response.text  # acme.sh's test of failure
    (result,) = api2.data("ZoneEdit", "add_zone_record", domain=ZONE, **args)
    assert result["result"]["status"] == 0 and message in result["result"]["statusmsg"]
    assert served_serial(settings, ZONE) == serial


def test_removing_the_soa_or_a_line_without_a_record_is_refused(api2: Api2, settings: Settings) -> None:
    for line in ("4", "1", "9999", "0", "x"):
        (result,) = api2.data("ZoneEdit", "remove_zone_record", domain=ZONE, line=line)
        assert result["result"]["status"] == 0 and result["result"]["newserial"] is None
    assert served_serial(settings, ZONE) == served_serial(settings, ZONE, tcp=True)


def test_api2_can_add_and_remove_ns_but_never_the_last_apex_ns(api2: Api2, settings: Settings) -> None:
    (added,) = api2.data("ZoneEdit", "add_zone_record", domain=ZONE, name="sub", type="NS", nsdname="ns.example.net.")
    assert added["result"]["status"] == 1
    referral = ask(settings, "x.sub.alice.test", "A")  # a delegation: answered with a referral, not authority
    assert not referral.flags & dns.flags.AA and "ns.example.net." in referral.authority[0].to_text()
    apex = [r["line"] for r in api2.data("ZoneEdit", "fetchzone_records", domain=ZONE, type="NS", name="alice.test.")]
    (first,) = api2.data("ZoneEdit", "remove_zone_record", domain=ZONE, line=str(apex[0]))
    assert first["result"]["status"] == 1
    (last,) = api2.data("ZoneEdit", "remove_zone_record", domain=ZONE, line=str(apex[0]))
    assert last["result"]["status"] == 0 and "at least one “NS” record" in last["result"]["statusmsg"]


def test_another_accounts_zone_is_not_the_callers(api2: Api2, container: Container, settings: Settings) -> None:
    make_account(container, "bob", domains=("bob.test",))
    (result,) = api2.data("ZoneEdit", "add_zone_record", domain="bob.test", name="x", type="TXT", txtdata="y")
    assert result["result"] == {
        "status": 0,
        "statusmsg": "You do not control a DNS zone named “bob.test”.",
        "newserial": None,
    }
    body = api2.call("ZoneEdit", "fetchzone_records", domain="bob.test")
    assert body["event"]["result"] == 0 and "bob.test" in body["error"]
    assert not any("line" in item for item in body["data"])
    assert served(settings, "x.bob.test", "TXT") == []


def test_custinfo_answers_the_probe(api2: Api2) -> None:
    (email,) = api2.data("CustInfo", "displaycontactinfo")
    assert email["name"] == "email"


def test_uapi_and_api2_see_the_same_lines(api2: Api2, client: TestClient, alice_token: IssuedToken) -> None:
    add(api2, "same")
    (line,) = challenge_lines(api2, "same")
    items = Calls(client, alice_token.secret, "DNS").get("parse_zone", zone=ZONE)["data"]
    assert any(item.get("record_type") == "TXT" and item["line_index"] == line - 1 for item in items)


def test_an_account_without_zone_editing_features_reads_but_does_not_change(
    api2: Api2, container: Container, alice: Account
) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["zoneedit", "simplezoneedit", "changemx"], [])
        uow.commit()
    assert api2.data("ZoneEdit", "fetchzones")[0]["zones"]
    body = api2.call("ZoneEdit", "add_zone_record", domain=ZONE, name="x", type="TXT", txtdata="y")
    assert body["event"]["result"] == 0 and body["error"] == "You do not have the feature “zoneedit”."
    assert body["data"][0]["result"]["newserial"] is None


def test_simplezoneedit_alone_allows_a_and_cname_only(api2: Api2, container: Container, alice: Account) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["zoneedit", "changemx"], [])
        uow.commit()
    (ok,) = api2.data("ZoneEdit", "add_zone_record", domain=ZONE, name="app", type="A", address="192.0.2.9")
    assert ok["result"]["status"] == 1
    body = api2.call("ZoneEdit", "add_zone_record", domain=ZONE, name="x", type="TXT", txtdata="y")
    assert body["error"] == "You do not have the feature “zoneedit”."
    other = make_token(container, alice, "other")
    assert other.token.permissions.full_access
