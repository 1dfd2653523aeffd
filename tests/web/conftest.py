"""A browser-like client for the web pages: keeps cookies, reads each page's CSRF token, follows the forms."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest
from httpx import Response
from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.principal import Principal
from tests.conftest import PASSWORD, FakeClock

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.token = ""

    def _remember(self, response: Response) -> Response:
        if match := CSRF.search(response.text):
            self.token = match.group(1)
        return response

    def get(self, path: str, **kwargs: object) -> Response:
        return self._remember(self.client.get(path, **kwargs))  # type: ignore[arg-type]

    def post(self, path: str, data: dict[str, str] | None = None, csrf: bool = True, **kwargs: object) -> Response:
        form = {**({"csrf_token": self.token} if csrf else {}), **(data or {})}
        return self._remember(self.client.post(path, data=form, **kwargs))  # type: ignore[arg-type]

    def sign_in(self, username: str = "alice", password: str = PASSWORD) -> Response:
        self.get("/login")
        return self.post("/login", {"username": username, "password": password})


@pytest.fixture
def browser(client: TestClient) -> Browser:
    return Browser(client)


@pytest.fixture
def second_browser(client: TestClient) -> Iterator[Browser]:
    with TestClient(client.app, base_url="https://testserver") as other:
        yield Browser(other)


def enable_two_factor(container: Container, account: Account, clock: FakeClock) -> tuple[pyotp.TOTP, list[str]]:
    with container.uow() as uow:
        service = container.twofactor(uow)
        enrolment = service.generate(account)
        codes = service.enable(Principal.admin(account), enrolment.secret, pyotp.TOTP(enrolment.secret).at(clock.now()))
        uow.commit()
    clock.advance(30)  # the code that confirmed the set-up cannot be used again
    return pyotp.TOTP(enrolment.secret), codes
