"""Calling one UAPI module as alice with one token, asserting cPanel's result object on every answer."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.uapi.envelope_check import uapi
from tests.conftest import auth


class Calls:
    def __init__(self, client: TestClient, secret: str, module: str) -> None:
        self.client = client
        self.headers = auth("alice", secret)
        self.module = module

    def get(self, function: str, status: int | None = 1, **args: str) -> dict[str, Any]:
        response = self.client.get(f"/execute/{self.module}/{function}", params=args, headers=self.headers)
        return uapi(response, status=status)

    def post(self, function: str, status: int | None = 1, **args: str | list[str]) -> dict[str, Any]:
        response = self.client.post(f"/execute/{self.module}/{function}", data=args, headers=self.headers)
        return uapi(response, status=status)

    def error(self, function: str, **args: str) -> str:
        """The error of a call that fails; no data comes with it."""
        body = self.post(function, status=0, **args)
        assert body["data"] is None, body
        return str(body["errors"][0])
