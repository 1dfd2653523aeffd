"""The seam for a new API dialect: a toy one, written here in a few lines, is served over the same registry and gate
as UAPI, so authentication, authorisation, rate limits and audit hold for it without a line of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from hostpanel.api.endpoint import Endpoint
from hostpanel.app import create_app, gate
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.permissions import Access, Permissions, Scope, ScopeModule
from hostpanel.functions.call import Call
from hostpanel.functions.gate import Answer, Credentials, Target
from hostpanel.functions.listing import ListOptions, Presorted, apply
from hostpanel.functions.registry import Module, Registry
from hostpanel.modules import default_registry
from tests.factories import make_token

TOY = "toy"


class ToyDialect:
    """A made-up dialect: `/toy/<function>?module=M`, `X-Toy: user:token`, and `{"ok", "result", "error"}`."""

    meta_prefixes: tuple[str, ...] = ("toy.",)

    def bind(self, request: Request, pairs: list[tuple[str, str]]) -> ToyDialect:
        return self

    def bind_local(self, function: str, pairs: list[tuple[str, str]]) -> ToyDialect:
        return self

    def local_target(self, module: str, function: str) -> Target:
        return Target(module, function, "toy")

    def target(self, request: Request, pairs: list[tuple[str, str]]) -> Target:
        module = dict(pairs).get("module", "")
        api = TOY if module == "Echo" else "uapi"  # its own namespace, and UAPI's functions under its envelope
        return Target(module, request.path_params["function"], api)

    def credentials(self, request: Request) -> Credentials | None:
        user, _, token = request.headers.get("x-toy", "").partition(":")
        return (user, token) if user and token else None

    def list_options(self, meta: dict[str, str]) -> ListOptions:
        return ListOptions()

    def success(self, answer: Answer, options: ListOptions) -> Response:
        data = answer.data
        if isinstance(data, Presorted) or (isinstance(data, list) and all(isinstance(item, dict) for item in data)):
            data = apply(data, options).records  # lists as the registry's post-processing leaves them
        return JSONResponse({"ok": True, "result": data, "error": None})

    def error(self, error: HostpanelError) -> Response:
        return self.failure(error.message)

    def failure(self, message: str, status: int = 200) -> Response:
        return JSONResponse({"ok": False, "result": None, "error": message}, status_code=status)

    def unauthenticated(self) -> Response:
        return JSONResponse({"ok": False, "result": None, "error": "who are you?"}, status_code=403)


echo = Module("Echo", ScopeModule.FEATURES, "Says back what it was given.", api=TOY)


@echo.function("say", Access.READ, "Answers with its `text` argument.", uses_database=False)
def say(call: Call) -> Any:
    return {"text": call.args.require("text"), "account": call.principal.account.username}


@pytest.fixture
def toy(container: Container) -> Iterator[TestClient]:
    registry = Registry([*default_registry().modules(), echo])
    app = create_app(container, registry)
    endpoint = Endpoint(ToyDialect(), gate(container, registry), container.limits, container.staging)
    app.router.routes.append(Route("/toy/{function}", endpoint.handle, methods=["GET", "POST"]))
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def headers(secret: str, user: str = "alice") -> dict[str, str]:
    return {"X-Toy": f"{user}:{secret}"}


def test_a_function_of_its_own_namespace_answers_in_its_envelope(
    toy: TestClient, alice: Account, container: Container
) -> None:
    secret = make_token(container, alice, "robot").secret
    answer = toy.get("/toy/say", params={"module": "Echo", "text": "hi"}, headers=headers(secret))
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert answer.json() == {"ok": True, "result": {"text": "hi", "account": "alice"}, "error": None}
    unknown = toy.get("/toy/say", params={"module": "Features", "text": "hi"}, headers=headers(secret)).json()
    assert unknown["ok"] is False and "could not find the function" in unknown["error"]


def test_uapi_does_not_see_another_namespace(toy: TestClient, alice: Account, container: Container) -> None:
    secret = make_token(container, alice, "robot").secret
    answer = toy.get("/execute/Echo/say", params={"text": "hi"}, headers={"Authorization": f"cpanel alice:{secret}"})
    assert answer.json()["status"] == 0 and "no such module" in answer.json()["errors"][0]


def test_the_shared_functions_answer_in_the_toy_envelope(toy: TestClient, alice: Account, container: Container) -> None:
    secret = make_token(container, alice, "robot").secret
    listed = toy.get("/toy/list", params={"module": "Tokens"}, headers=headers(secret)).json()
    assert listed["ok"] is True and [token["name"] for token in listed["result"]] == ["robot"]


def test_authentication_failures_are_the_dialects_one_answer_and_are_audited(
    toy: TestClient, alice: Account, container: Container
) -> None:
    secret = make_token(container, alice, "robot").secret
    for sent in (headers(secret[:-2] + "xx"), headers(secret, user="bob"), {}):
        answer = toy.get("/toy/say", params={"module": "Echo", "text": "hi"}, headers=sent)
        assert answer.status_code == 403 and answer.json()["error"] == "who are you?"
    with container.uow(write=False) as uow:
        failures = uow.audit.query(AuditQuery(actions=("account:auth:failure",)))
    # The two presented credentials, and the owner told of its token presented under another name; a bare request
    # is never recorded.
    assert sorted((event.username, event.details["reason"]) for event in failures) == [
        ("alice", "malformed token"),
        ("alice", "the token was presented under another username"),
        ("bob", "unknown token"),
    ]


def test_the_one_authorisation_rule_refuses_and_audits_for_it(
    toy: TestClient, alice: Account, container: Container
) -> None:
    files_only = make_token(container, alice, "files", Permissions.of([Scope.parse("fileman:read")])).secret
    refused = toy.get("/toy/list", params={"module": "Tokens"}, headers=headers(files_only)).json()
    assert refused["ok"] is False and "tokens:read" in refused["error"]
    with container.uow(write=False) as uow:
        denials = uow.audit.query(AuditQuery(actions=("account:permission:denied",)))
    assert [(event.actor, event.target) for event in denials] == [("token:files", "Tokens::list")]


def test_the_rate_limit_holds_for_it(toy: TestClient, alice: Account, container: Container) -> None:
    slow = make_token(container, alice, "slow", rate_limit=2).secret
    answers = [toy.get("/toy/say", params={"module": "Echo", "text": "x"}, headers=headers(slow)) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].json()["ok"] is False and int(answers[2].headers["retry-after"]) > 0
