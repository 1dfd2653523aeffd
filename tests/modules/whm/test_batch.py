"""batch, as WHMCS sends it: one envelope per command, each admitted on its own."""

from __future__ import annotations

from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from tests.factories import make_token, make_whm_token, whm, whm_auth
from tests.modules.whm.conftest import Whm


def test_batch_answers_each_command_in_its_envelope(as_root: Whm, container: Container, alice: Account) -> None:
    make_token(container, alice, "t1")
    body = as_root(
        "batch",
        command=[
            "version",
            "systemloadavg",
            "get_maximum_users",
            "uapi_cpanel?cpanel.user=alice&cpanel.module=Tokens&cpanel.function=list",
        ],
    )
    results = body["data"]["result"]
    assert [r["metadata"]["command"] for r in results] == [
        "version",
        "systemloadavg",
        "get_maximum_users",
        "uapi_cpanel",
    ]
    assert all(r["metadata"]["result"] == 1 for r in results)
    assert [t["name"] for t in results[3]["data"]["uapi"]["data"]] == ["t1"]


def test_a_failing_or_forbidden_command_fails_alone(
    whm_client: TestClient, container: Container, root: Account
) -> None:
    limited = make_whm_token(container, root, "versions", frozenset({"basic-system-info"})).secret
    response = whm_client.post(
        "/json-api/batch?api.version=1",
        data={"command": ["version", "listaccts", "nosuch", "batch?command=version"]},
        headers=whm_auth("root", limited),
    )
    body = whm(response, result=0)
    reasons = [r["metadata"]["reason"] for r in body["data"]["result"]]
    assert body["data"]["result"][0]["metadata"]["result"] == 1
    assert "list-accts" in reasons[1]
    assert reasons[2].startswith("Unknown app (nosuch)")
    assert "within itself" in reasons[3]
