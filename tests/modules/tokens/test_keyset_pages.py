"""`Tokens::list` with `after` and `limit`: pages by name that cost the same at the end as at the start."""

from __future__ import annotations

from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import Calls, make_token


def test_pages_by_name_with_a_cursor(
    client: TestClient, container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    for name in ("a1", "a2", "b1", "c1"):
        make_token(container, alice, name)
    tokens = Calls(client, alice_token.secret, "Tokens")
    first = tokens.get("list", limit="2")
    assert [record["name"] for record in first["data"]] == ["a1", "a2"]
    assert first["metadata"]["next_after"] == "a2"
    second = tokens.get("list", after="a2", limit="2")
    assert [record["name"] for record in second["data"]] == ["b1", "bar"]
    last = tokens.get("list", after="bar", limit="2")
    assert [record["name"] for record in last["data"]] == ["c1"] and "next_after" not in last["metadata"]
    assert tokens.get("list", after="c1")["data"] == []
    assert "token" not in last["data"][0] and last["data"][0]["has_full_access"] == 1
    assert "whole number from 1 to 1000" in tokens.get("list", status=0, limit="0")["errors"][0]
