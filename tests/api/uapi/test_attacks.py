"""Attacks on the UAPI surface through the real ASGI app, as an outsider and as a hostile token holder."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from hostpanel.domain.tokens.model import IssuedToken
from tests.api.uapi.envelope_check import uapi
from tests.conftest import auth

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.timeout(30, method="thread")  # a hang must end the run, not wait for it
def test_a_body_of_one_key_repeated_is_parsed_in_linear_time(client: TestClient, alice_token: IssuedToken) -> None:
    # 100,000 repetitions fit well under the body limit; numbering each one by scanning from 0 took hours.
    body = "&".join(["a="] * 100_000)
    headers = {**auth("alice", alice_token.secret), **FORM}
    uapi(client.post("/execute/Features/list_features", content=body, headers=headers), status=1)
