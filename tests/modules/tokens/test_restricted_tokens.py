"""Tokens restricted to parts of an account, over HTTP: creation, listing, enforcement and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from starlette.testclient import TestClient

from hostpanel.app import create_app
from hostpanel.container import Container
from hostpanel.domain.audit.model import AuditEvent, AuditQuery
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import auth, uapi


@contextmanager
def client_from(container: Container, address: str) -> Iterator[TestClient]:
    """A client whose requests arrive from `address` (what the allowlist sees)."""
    with TestClient(create_app(container), base_url="https://testserver", client=(address, 50000)) as client:
        yield client


def events(container: Container, action: str) -> list[AuditEvent]:
    with container.uow(write=False) as uow:
        return list(reversed(uow.audit.query(AuditQuery(actions=(action,)))))


def create(client: TestClient, secret: str, status: int = 1, **form: str | list[str]) -> dict[str, object]:
    return uapi(client.post("/execute/Tokens/create", data=form, headers=auth("alice", secret)), status=status)


def test_restrictions_are_taken_shown_and_listed(client: TestClient, alice_token: IssuedToken) -> None:
    body = create(
        client,
        alice_token.secret,
        name="deploy",
        scope=["fileman:write", "email:write"],
        fileman_path=["public_html/app", "public_html/app/static"],
        email_domain="Alice.Test",
        whitelist_ip=["192.0.2.7", "2001:db8::/32"],
        read_only="0",
    )
    record = body["data"]
    assert isinstance(record, dict)
    assert record["fileman_paths"] == ["public_html/app"]
    assert record["email_domains"] == ["alice.test"]
    assert record["whitelist_ips"] == ["192.0.2.7", "2001:0db8:0000:0000:0000:0000:0000:0000/32"]
    assert record["read_only"] == 0
    listed = uapi(client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret)), status=1)["data"]
    by_name = {item["name"]: item for item in listed}
    assert {key: by_name["deploy"][key] for key in ("fileman_paths", "email_domains", "whitelist_ips")} == {
        key: record[key] for key in ("fileman_paths", "email_domains", "whitelist_ips")
    }
    assert by_name["bar"]["fileman_paths"] is None and by_name["bar"]["read_only"] == 0


RESTRICTION_ERRORS: list[tuple[dict[str, str | list[str]], str]] = [
    ({"whitelist_ip": "10.0.0.999"}, "Invalid IP address or CIDR range specified: 10.0.0.999"),
    ({"whitelist_ip": [f"10.0.0.{n}" for n in range(101)]}, "above the limit of 100"),
    ({"fileman_path": "/etc"}, "relative to the home directory"),
    ({"fileman_path": "../x"}, "outside your home directory"),
    ({"fileman_path": ""}, "The “fileman_path” arguments cannot be empty."),
    ({"email_domain": "bob.test"}, "The domain “bob.test” does not belong to this account."),
    ({"email_domain": "not a domain"}, "is not a valid domain name"),
    ({"read_only": "yes"}, "The “read_only” argument must be 1 or 0."),
]


@pytest.mark.parametrize(("form", "message"), RESTRICTION_ERRORS, ids=range(len(RESTRICTION_ERRORS)))
def test_each_restriction_argument_is_validated(
    client: TestClient, alice_token: IssuedToken, form: dict[str, str | list[str]], message: str
) -> None:
    body = create(client, alice_token.secret, status=0, name="x", full_access="1", **form)
    assert message in body["errors"][0], (form, body)  # type: ignore[index]
    names = [
        t["name"] for t in uapi(client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret)))["data"]
    ]
    assert names == ["bar"]  # nothing half-created


def test_a_read_only_token_reads_but_every_write_is_refused_and_audited(
    client: TestClient, container: Container, alice_token: IssuedToken
) -> None:
    reader = create(client, alice_token.secret, name="reader", full_access="1", read_only="1")["data"]
    assert isinstance(reader, dict) and reader["read_only"] == 1
    headers = auth("alice", str(reader["token"]))
    uapi(client.get("/execute/Tokens/list", headers=headers), status=1)
    denied = uapi(client.post("/execute/Tokens/revoke", data={"name": "bar"}, headers=headers), status=0)
    assert denied["errors"] == [
        "This API token is read-only (restriction “read_only”): it cannot use “tokens:write” functions."
    ]
    assert denied["data"] is None
    [event] = events(container, "account:restriction:denied")
    assert (event.actor, event.target, event.outcome.value) == ("token:reader", "Tokens::revoke", "denied")
    assert event.details == {"restriction": "read_only", "detail": "tokens:write"}
    assert [t["name"] for t in uapi(client.get("/execute/Tokens/list", headers=headers))["data"]] == ["bar", "reader"]


def test_an_address_outside_the_allowlist_is_an_ordinary_401_and_the_reason_is_audited(
    container: Container, alice_token: IssuedToken
) -> None:
    with client_from(container, "203.0.113.5") as inside, client_from(container, "198.51.100.1") as outside:
        token = create(inside, alice_token.secret, name="office", full_access="1", whitelist_ip="203.0.113.0/24")
        secret = str(token["data"]["token"])  # type: ignore[index]
        uapi(inside.get("/execute/Tokens/list", headers=auth("alice", secret)), status=1)
        refused = outside.get("/execute/Tokens/list", headers=auth("alice", secret))
        unknown = outside.get("/execute/Tokens/list", headers=auth("alice", secret[:-3] + "AAA"))
        assert refused.status_code == unknown.status_code == 401
        assert refused.content == unknown.content
        assert {k: v for k, v in refused.headers.items() if k != "date"} == {
            k: v for k, v in unknown.headers.items() if k != "date"
        }
    with client_from(container, "2001:db8::5") as inside6, client_from(container, "2001:db9::5") as outside6:
        token = create(inside6, alice_token.secret, name="office6", full_access="1", whitelist_ip="2001:db8::/32")
        secret = str(token["data"]["token"])  # type: ignore[index]
        uapi(inside6.get("/execute/Tokens/list", headers=auth("alice", secret)), status=1)
        assert outside6.get("/execute/Tokens/list", headers=auth("alice", secret)).content == unknown.content
    failures = events(container, "account:auth:failure")
    assert failures[2].details["restriction"] == "whitelist_ips" and failures[2].ip == "2001:db9::5"
    assert failures[0].details["restriction"] == "whitelist_ips"
    assert "198.51.100.1" in str(failures[0].details["reason"]) and failures[0].ip == "198.51.100.1"
    assert "restriction" not in failures[1].details


def test_a_token_can_only_create_tokens_at_least_as_restricted(container: Container, alice_token: IssuedToken) -> None:
    with client_from(container, "192.0.2.1") as client:
        check_covering(client, container, alice_token)


def check_covering(client: TestClient, container: Container, alice_token: IssuedToken) -> None:
    parent = create(
        client, alice_token.secret, name="parent", full_access="1", fileman_path="public_html", whitelist_ip="0.0.0.0/0"
    )
    secret = str(parent["data"]["token"])  # type: ignore[index]
    refused = create(client, secret, status=0, name="wider", full_access="1", whitelist_ip="0.0.0.0/0")
    assert "must keep the restriction “fileman_paths” (fileman_paths=public_html)" in refused["errors"][0]  # type: ignore[index]
    refused = create(client, secret, status=0, name="wider", full_access="1", fileman_path="public_html/app")
    assert "“whitelist_ips”" in refused["errors"][0]  # type: ignore[index]
    refused = create(
        client,
        secret,
        status=0,
        name="wider",
        full_access="1",
        fileman_path=["public_html", "etc"],
        whitelist_ip="0.0.0.0/0",
    )
    assert "“fileman_paths”" in refused["errors"][0]  # type: ignore[index]
    narrower = create(
        client,
        secret,
        name="narrower",
        scope="fileman:read",
        fileman_path="public_html/app",
        whitelist_ip="10.0.0.0/8",
        read_only="1",
    )
    assert narrower["data"]["fileman_paths"] == ["public_html/app"]  # type: ignore[index]
    denials = events(container, "account:restriction:denied")
    assert [(e.target, e.details["restriction"]) for e in denials] == [
        ("Tokens::create", "fileman_paths"),
        ("Tokens::create", "whitelist_ips"),
        ("Tokens::create", "fileman_paths"),
    ]
