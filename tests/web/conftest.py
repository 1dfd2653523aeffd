"""Fixtures of the page tests: browser-like clients that keep cookies and follow the forms."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.factories import Browser


@pytest.fixture
def browser(client: TestClient) -> Browser:
    return Browser(client)


@pytest.fixture
def second_browser(client: TestClient) -> Iterator[Browser]:
    """A second browser on the same server, with cookies of its own."""
    with TestClient(client.app, base_url="https://testserver") as other:
        yield Browser(other)
