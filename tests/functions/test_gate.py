"""The gate's admission from memory, and the answer on the event loop it allows, give exactly the answers of the
full path.

A request whose token is current in the cache, from an address with no known block, for a function the token may
call, is admitted without I/O; a function that needs no database is then answered without a transaction or a
thread hop. Everything else falls back to the full path, which refuses, counts and records as before.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from hostpanel.api.auth import parse_authorization
from hostpanel.app import gate
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.permissions import Access, ScopeModule
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.functions.call import NoDatabase
from hostpanel.functions.gate import Admitted, RateLimited, Target
from hostpanel.functions.registry import Module
from hostpanel.modules import default_registry
from tests.factories import auth, make_token, statements, uapi, warm

FEATURE = "/execute/Features/has_feature?name=apitokens"


@pytest.fixture
def warmed(client: TestClient, container: Container, alice_token: IssuedToken) -> IssuedToken:
    warm(container, "alice", alice_token.secret)
    uapi(client.get(FEATURE, headers=auth("alice", alice_token.secret)), status=1)  # the block view, too
    return alice_token


def test_a_function_without_database_answers_without_a_statement(
    client: TestClient, container: Container, warmed: IssuedToken
) -> None:
    with statements(container) as seen:
        for _ in range(10):
            assert uapi(client.get(FEATURE, headers=auth("alice", warmed.secret)), status=1)["data"] == 1
    assert seen == []


def test_a_revocation_elsewhere_is_refused_on_the_next_request(
    client: TestClient, other: Container, alice: Account, warmed: IssuedToken
) -> None:
    with other.uow() as uow:
        other.tokens(uow).revoke(Principal.admin(alice), "bar")
        uow.commit()
    assert client.get(FEATURE, headers=auth("alice", warmed.secret)).status_code == 401


def test_a_feature_switched_off_elsewhere_is_refused_and_recorded(
    client: TestClient, container: Container, other: Container, warmed: IssuedToken
) -> None:
    with other.uow() as uow:
        other.accounts(uow).set_features("alice", ["apitokens"], [])
        uow.commit()
    body = uapi(client.get("/execute/Tokens/list", headers=auth("alice", warmed.secret)), status=0)
    assert body["errors"] == ["You do not have the feature “apitokens”."]
    with container.uow(write=False) as uow:
        assert uow.audit.query(AuditQuery(actions=("account:permission:denied",)))


def test_a_blocked_address_is_refused_even_with_a_warm_token(
    client: TestClient, container: Container, warmed: IssuedToken
) -> None:
    for _ in range(20):
        client.get(FEATURE, headers=auth("alice", warmed.secret[:-3] + "AAA"))
    answer = client.get(FEATURE, headers=auth("alice", warmed.secret))
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0


def test_the_rate_limit_holds_on_the_fast_path(
    client: TestClient, container: Container, alice: Account, other: Container
) -> None:
    limited = make_token(container, alice, "slow", rate_limit=3).secret
    warm(container, "alice", limited)
    answers = [client.get(FEATURE, headers=auth("alice", limited)) for _ in range(5)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429, 429]
    assert answers[0].headers["ratelimit-limit"] == "3" and answers[2].headers["ratelimit-remaining"] == "0"


def test_a_token_past_its_rate_limit_is_refused_from_memory(
    container: Container, alice: Account, other: Container
) -> None:
    admission = gate(container, default_registry())
    limited = make_token(container, alice, "slow", rate_limit=2).secret
    warm(container, "alice", limited)
    credentials = parse_authorization(f"cpanel alice:{limited}")
    target = Target("Features", "has_feature")
    assert isinstance(admission.admit(target, credentials, "testclient"), Admitted)  # the full path: 1 of 2
    with statements(container) as seen:
        answers = [admission.admit_from_memory(target, credentials, "testclient") for _ in range(2)]
    assert isinstance(answers[0], Admitted)
    refused = answers[1]
    assert isinstance(refused, RateLimited) and refused.limit.remaining == 0
    assert seen == []


def test_a_function_declared_without_database_cannot_reach_one() -> None:
    with pytest.raises(RuntimeError, match="declared that it uses no database"):
        NoDatabase().tokens  # noqa: B018


def test_a_quick_read_is_a_read() -> None:
    module = Module("Tokens", ScopeModule.TOKENS, "a test module")
    with pytest.raises(AssertionError, match="writes nothing"):
        module.function("writer", Access.WRITE, "writes", quick_read=True)(lambda call: None)


def test_which_calls_are_answered_on_the_event_loop(container: Container) -> None:
    """A function needing no database, always; a quick read only where reads never wait (SQLite in WAL mode);
    nothing that writes."""
    registry = default_registry()
    admission = gate(container, registry)
    on_sqlite = container.engine.dialect.name == "sqlite"
    assert admission.runs_inline(registry.find("Features", "has_feature"))
    assert admission.runs_inline(registry.find("Tokens", "list")) is on_sqlite
    assert not admission.runs_inline(registry.find("Tokens", "create"))
    assert not admission.runs_inline(registry.find("Fileman", "list_files"))


def test_a_quick_read_sees_what_another_process_committed(
    client: TestClient, other: Container, alice: Account, warmed: IssuedToken
) -> None:
    def names() -> list[str]:
        body = uapi(client.get("/execute/Tokens/list", headers=auth("alice", warmed.secret)), status=1)
        return sorted(token["name"] for token in body["data"])

    before = names()
    make_token(other, alice, "made-elsewhere")
    assert names() == sorted([*before, "made-elsewhere"])


def test_what_is_admitted_from_memory(container: Container, warmed: IssuedToken) -> None:
    admission = gate(container, default_registry())
    header = f"cpanel alice:{warmed.secret}"
    admitted = admission.admit_from_memory(Target("Features", "has_feature"), parse_authorization(header), "testclient")
    assert isinstance(admitted, Admitted) and admitted.principal.token is not None
    assert not admitted.function.uses_database


@pytest.mark.parametrize("case", ["a token never seen", "another user's name", "an unknown function", "no credentials"])
def test_what_the_full_path_must_decide(container: Container, alice: Account, warmed: IssuedToken, case: str) -> None:
    admission = gate(container, default_registry())
    cold = make_token(container, alice, "cold").secret  # never seen: the full path reads it
    module, function, authorization = {
        "a token never seen": ("Features", "has_feature", f"cpanel alice:{cold}"),
        "another user's name": ("Features", "has_feature", f"cpanel bob:{warmed.secret}"),
        "an unknown function": ("Features", "nope", f"cpanel alice:{warmed.secret}"),
        "no credentials": ("Features", "has_feature", None),
    }[case]
    credentials = parse_authorization(authorization)
    assert admission.admit_from_memory(Target(module, function), credentials, "testclient") is None
