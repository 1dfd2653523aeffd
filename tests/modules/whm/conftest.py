"""Fixtures of the WHM function tests: callers of WHM API 1 as root and as a reseller."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from tests.factories import make_whm_token, whm, whm_auth


class Whm:
    """Calls WHM API 1 (`api.version=1`, form bodies) as one user with one token, checking the envelope."""

    def __init__(self, client: TestClient, user: str, token: str) -> None:
        self.client = client
        self.headers = whm_auth(user, token)

    def __call__(self, function: str, **args: str | list[str]) -> dict[str, Any]:
        """A call that succeeds."""
        return self._post(function, 1, args)

    def reason(self, function: str, **args: str | list[str]) -> str:
        """The reason of a call that fails."""
        return str(self._post(function, 0, args)["metadata"]["reason"])

    def _post(self, function: str, result: int, args: dict[str, str | list[str]]) -> dict[str, Any]:
        response = self.client.post(f"/json-api/{function}?api.version=1", data=args, headers=self.headers)
        return whm(response, result)


@pytest.fixture
def as_root(whm_client: TestClient, container: Container, root: Account) -> Whm:
    return Whm(whm_client, "root", make_whm_token(container, root, "suite").secret)
