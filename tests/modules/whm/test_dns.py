"""WHM's parse_dns_zone and mass_edit_dns_zone against a real PowerDNS: UAPI's items under `payload`, the new serial,
a stale serial in WHM's envelope with its data, bad input changing nothing, every change served by the nameserver
when the call returns, and recorded on the account's trail in the WHM caller's name."""

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
from tests.factories import (
    PASSWORD,
    ask,
    make_account,
    make_reseller,
    make_whm_token,
    served,
    served_serial,
    whm,
    whm_auth,
)
from tests.modules.whm.conftest import Whm

pytestmark = pytest.mark.usefixtures("nameserver")
ZONE = "bob.test"


def items(body: dict[str, Any]) -> list[dict[str, Any]]:
    payload: list[dict[str, Any]] = body["data"]["payload"]
    return payload


def serial_of(payload: list[dict[str, Any]]) -> str:
    soa = next(item for item in payload if item.get("record_type") == "SOA")
    return base64.b64decode(soa["data_b64"][2]).decode()


def txt(dname: str, value: str) -> str:
    return json.dumps({"dname": dname, "ttl": 300, "record_type": "TXT", "data": [value]})


@pytest.fixture
def bob(container: Container) -> Account:
    return make_account(container, "bob", domains=(ZONE,))


def test_parse_dns_zone_gives_uapis_items_under_payload(whm_client: TestClient, as_root: Whm, bob: Account) -> None:
    response = whm_client.get(
        "/json-api/parse_dns_zone", params={"api.version": "1", "zone": ZONE}, headers=as_root.headers
    )
    body = whm(response)
    assert body["metadata"]["command"] == "parse_dns_zone" and '"record_type":"SOA"' in response.text
    payload = items(body)
    assert payload[0]["type"] == "comment" and payload[3]["record_type"] == "SOA"
    assert base64.b64decode(payload[3]["dname_b64"]) == b"bob.test."
    assert items(as_root("parse_dns_zone", zone="BOB.test.")) == payload  # case and a final dot forgiven
    assert as_root.reason("parse_dns_zone", zone="nobody.test") == "You do not control a DNS zone named “nobody.test”."


def test_mass_edit_dns_zone_applies_and_the_nameserver_serves_it_at_once(
    as_root: Whm, bob: Account, settings: Settings, container: Container
) -> None:
    serial = serial_of(items(as_root("parse_dns_zone", zone=ZONE)))
    added = as_root("mass_edit_dns_zone", zone=ZONE, serial=serial, add=[txt("_acme-challenge", "one")])
    new = added["data"]["new_serial"]
    assert isinstance(new, str) and int(new) > int(serial) and served_serial(settings, ZONE) == int(new)
    assert served(settings, "_acme-challenge.bob.test", "TXT") == ["one"]
    # WHM may change the types the account's own zone editor may not (NS, MX), as cPanel's WHM does.
    ns = json.dumps({"dname": "sub", "ttl": 300, "record_type": "NS", "data": ["ns9.example.net."]})
    as_root("mass_edit_dns_zone", zone=ZONE, serial=new, add=ns)
    referral = ask(settings, "sub.bob.test", "NS")  # a delegation: a referral, in the authority section
    assert [rdata.to_text() for rrset in referral.authority for rdata in rrset] == ["ns9.example.net."]
    with container.uow(write=False) as uow:
        trail = uow.audit.query(AuditQuery(username="bob", actions=("admin:dns:edit",)))
    assert trail and trail[0].actor == "whm:root" and trail[0].target == ZONE


def test_a_stale_serial_fails_with_its_data_and_changes_nothing(
    whm_client: TestClient, as_root: Whm, bob: Account, settings: Settings
) -> None:
    serial = serial_of(items(as_root("parse_dns_zone", zone=ZONE)))
    as_root("mass_edit_dns_zone", zone=ZONE, serial=serial, add=txt("_acme-challenge", "first"))
    response = whm_client.post(
        "/json-api/mass_edit_dns_zone?api.version=1",
        data={"zone": ZONE, "serial": serial, "add": txt("_acme-challenge", "second")},
        headers=as_root.headers,
    )
    body = whm(response, 0)
    assert body["data"] == {"type": "Stale", "detail": None}
    assert body["metadata"]["reason"].startswith(f"The given serial number ({serial}) does not match")
    assert served(settings, "_acme-challenge.bob.test", "TXT") == ["first"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"add": '["not an object"]'}, "must be an object"),
        ({"add": '{"dname": "x", "ttl": 300, "record_type": "TXT"}'}, "requires"),
        ({"add": '{"dname": "x", "ttl": "soon", "record_type": "TXT", "data": ["v"]}'}, "Time-To-Live"),
        ({"add": '{"dname": "x.other.test.", "ttl": 300, "record_type": "A", "data": ["192.0.2.1"]}'}, "outside"),
        ({"remove": "999"}, "999"),
        ({}, "at least one change"),
    ],
)
def test_bad_input_is_a_whm_error_and_nothing_is_applied(
    as_root: Whm, bob: Account, settings: Settings, args: dict[str, str], expected: str
) -> None:
    before = items(as_root("parse_dns_zone", zone=ZONE))
    good = txt("_acme-challenge", "never")  # beside the bad change: the whole batch is refused
    wanted = {"add": [good, args["add"]]} if "add" in args else {**args, "add": good} if args else {}
    reason = as_root.reason("mass_edit_dns_zone", zone=ZONE, serial=serial_of(before), **wanted)
    assert expected in reason
    assert items(as_root("parse_dns_zone", zone=ZONE)) == before
    assert served_serial(settings, ZONE) == int(serial_of(before))


def test_a_reseller_edits_the_zones_of_its_own_accounts(
    whm_client: TestClient, container: Container, root: Account, settings: Settings
) -> None:
    reseller = make_reseller(container, "resdns", frozenset({"manage-dns-records"}))
    make_account(container, "custdns", domains=("custdns.test",))
    with container.uow() as uow:
        container.accounts(uow).modify("custdns", owner="resdns")
        uow.commit()
    as_reseller = Whm(whm_client, "resdns", make_whm_token(container, reseller, "acme").secret)
    serial = serial_of(items(as_reseller("parse_dns_zone", zone="custdns.test")))
    as_reseller("mass_edit_dns_zone", zone="custdns.test", serial=serial, add=txt("_acme-challenge", "mine"))
    assert served(settings, "_acme-challenge.custdns.test", "TXT") == ["mine"]
    response = whm_client.get(
        "/json-api/parse_dns_zone?api.version=1&zone=custdns.test", headers=whm_auth("resdns", "hpat_nonsense")
    )
    assert response.status_code == 403


def test_a_resellers_nameservers_are_served_for_its_accounts_zones(
    as_root: Whm, container: Container, settings: Settings
) -> None:
    make_account(container, "resns")
    as_root("setupreseller", user="resns")
    as_root("setresellernameservers", user="resns", nameservers="ns1.host.example,ns2.host.example")
    as_root("createacct", username="custns", domain="custns.test", password=PASSWORD, owner="resns")
    assert served(settings, "custns.test", "NS") == ["ns1.host.example.", "ns2.host.example."]
    as_root("createacct", username="rootns", domain="rootns.test", password=PASSWORD)  # root's: the server's
    assert served(settings, "rootns.test", "NS") == ["ns1.rootns.test.", "ns2.rootns.test."]
