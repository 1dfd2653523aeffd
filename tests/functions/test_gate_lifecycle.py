"""The gate and the token lifecycle: use limits spent exactly across processes, never from memory; exhausted and
rotated-out tokens refused like unknown ones; usage history batched per module; no write for unlimited tokens."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest
from starlette.testclient import TestClient

from hostpanel.app import gate
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.functions.gate import Admitted, Target
from hostpanel.modules import default_registry
from tests.factories import (
    IP,
    FakeClock,
    auth,
    flush_usage,
    make_token,
    statements,
    uapi,
    warm,
)

LIST = Target("Tokens", "list")
PROCESSES = 4
TRIES_EACH = 6
MAX_USES = 7


def _hammer(settings: dict[str, Any], token: str, start: Any) -> int:
    """One process: its own container and gate on the shared database, calling as fast as it can once released."""
    container = Container(Settings(**settings))
    try:
        admission = gate(container, default_registry())
        start.wait()
        return sum(isinstance(admission.admit(LIST, ("alice", token), IP), Admitted) for _ in range(TRIES_EACH))
    finally:
        container.close()


def test_a_use_limit_holds_exactly_across_processes(settings: Settings, container: Container, alice: Account) -> None:
    issued = make_token(container, alice, "limited", max_uses=MAX_USES)
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Event()
    fields = {"home": settings.home, "database_url": settings.database_url, "password_time_cost": 1}
    with context.Pool(PROCESSES) as pool:
        pending = [pool.apply_async(_hammer, (fields, issued.secret, start)) for _ in range(PROCESSES)]
        start.set()
        admitted = [result.get(timeout=120) for result in pending]
    assert sum(admitted) == MAX_USES, admitted  # 24 tries, exactly 7 admitted
    with container.uow(write=False) as uow:
        stored = uow.tokens.get_by_name(alice.id, "limited")
    assert stored is not None and stored.uses == MAX_USES


def test_an_exhausted_token_is_refused_exactly_like_an_unknown_one(
    client: TestClient, container: Container, alice: Account
) -> None:
    issued = make_token(container, alice, "once", max_uses=1)
    uapi(client.get("/execute/Tokens/list", headers=auth("alice", issued.secret)), status=1)
    exhausted = client.get("/execute/Tokens/list", headers=auth("alice", issued.secret))
    unknown = client.get("/execute/Tokens/list", headers=auth("alice", secret.generate()))
    assert exhausted.status_code == unknown.status_code == 401
    assert exhausted.content == unknown.content
    assert exhausted.headers.keys() == unknown.headers.keys()
    with container.uow(write=False) as uow:
        (event,) = uow.audit.query(AuditQuery(account_id=alice.id, actions=("account:token:exhausted",)))
    assert event.target == "once"


def test_a_use_limited_token_is_never_admitted_from_memory(container: Container, alice: Account) -> None:
    issued = make_token(container, alice, "limited", max_uses=3)
    admission = gate(container, default_registry())
    warm(container, "alice", issued.secret)  # the lookup is cached
    assert admission.admit_from_memory(LIST, ("alice", issued.secret), IP) is None
    for _ in range(3):
        assert isinstance(admission.admit(LIST, ("alice", issued.secret), IP), Admitted)
    assert not isinstance(admission.admit(LIST, ("alice", issued.secret), IP), Admitted)


def test_a_token_without_a_limit_adds_no_write_per_request(container: Container, alice_token: IssuedToken) -> None:
    admission = gate(container, default_registry())
    admission.admit(LIST, ("alice", alice_token.secret), IP)
    with statements(container) as ran:
        for _ in range(5):
            assert isinstance(admission.admit(LIST, ("alice", alice_token.secret), IP), Admitted)
    assert not [s for s in ran if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))], ran


def test_the_old_secret_works_over_http_until_its_grace_runs_out(
    client: TestClient, container: Container, alice: Account, alice_token: IssuedToken, clock: FakeClock
) -> None:
    manager = make_token(container, alice, "manager").secret
    rotated = uapi(
        client.post(
            "/execute/Tokens/rotate", data={"name": "bar", "grace_period": "60"}, headers=auth("alice", manager)
        ),
        status=1,
    )["data"]
    new = rotated["token"]
    assert rotated["hp_rotating"] == 1 and rotated["hp_old_secret_valid_until"] == int(clock.now()) + 60
    uapi(client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret)), status=1)
    flush_usage(container)
    listed = uapi(client.get("/execute/Tokens/list", headers=auth("alice", new)), status=1)["data"]
    bar = next(record for record in listed if record["name"] == "bar")
    assert bar["hp_old_secret_last_used"] == int(clock.now())
    assert bar["hp_state"][0].startswith("rotating, old secret valid until ")
    clock.advance(60)
    dead = client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret))
    unknown = client.get("/execute/Tokens/list", headers=auth("alice", secret.generate()))
    assert dead.status_code == 401 and dead.content == unknown.content
    uapi(client.get("/execute/Tokens/list", headers=auth("alice", new)), status=1)


@pytest.mark.parametrize("grace", ["604801", "-1", "soon"])
def test_a_bad_grace_period_is_refused_and_changes_nothing(
    client: TestClient, alice_token: IssuedToken, grace: str
) -> None:
    manager = auth("alice", alice_token.secret)
    answer = uapi(client.post("/execute/Tokens/rotate", data={"name": "bar", "grace_period": grace}, headers=manager))
    assert answer["status"] == 0 and "grace period" in answer["errors"][0]
    uapi(client.get("/execute/Tokens/list", headers=manager), status=1)  # the secret did not change


def test_max_uses_is_taken_and_shown(client: TestClient, alice_token: IssuedToken) -> None:
    manager = auth("alice", alice_token.secret)
    made = uapi(
        client.post(
            "/execute/Tokens/create", data={"name": "x", "scope": "tokens:read", "max_uses": "2"}, headers=manager
        ),
        status=1,
    )
    assert made["data"]["hp_max_uses"] == 2 and made["data"]["hp_uses"] == 0
    uapi(client.get("/execute/Tokens/list", headers=auth("alice", made["data"]["token"])), status=1)
    listed = uapi(client.get("/execute/Tokens/list", headers=manager), status=1)["data"]
    assert next(r for r in listed if r["name"] == "x")["hp_state"] == ["used 1 of 2"]
    for bad in ("0", "-1", "two"):
        refused = uapi(
            client.post("/execute/Tokens/create_full_access", data={"name": "y", "max_uses": bad}, headers=manager)
        )
        assert refused["status"] == 0


def test_usage_is_counted_per_day_and_module_in_batches(
    client: TestClient, container: Container, alice_token: IssuedToken, clock: FakeClock
) -> None:
    headers = auth("alice", alice_token.secret)
    for _ in range(3):
        client.get("/execute/Tokens/list", headers=headers)
    client.get("/execute/Features/list_features", headers=headers)
    client.get("/execute/NoSuchModule/x", headers=headers)
    flush_usage(container)
    clock.advance(86400)
    client.get("/execute/Tokens/list", headers=headers)
    flush_usage(container)
    bar = next(
        r for r in uapi(client.get("/execute/Tokens/list", headers=headers), status=1)["data"] if r["name"] == "bar"
    )
    assert bar["hp_calls_by_module"] == {"": 1, "Features": 1, "Tokens": 4}  # 3 + 1 the next day
    days = sorted({entry["day"] for entry in bar["hp_calls_by_day"]})
    assert len(days) == 2
    clock.advance(91 * 86400)
    flush_usage(container)  # nothing pending: nothing written, the history stays until a flush trims it
    client.get("/execute/Tokens/list", headers=headers)
    flush_usage(container)
    bar = next(
        r for r in uapi(client.get("/execute/Tokens/list", headers=headers), status=1)["data"] if r["name"] == "bar"
    )
    assert bar["hp_calls_by_module"] == {"Tokens": 1}  # older days trimmed
