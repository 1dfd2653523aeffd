"""One assertion for cPanel's bare UAPI result object, used by every API test."""

from __future__ import annotations

from typing import Any

import httpx2

KEYS = {"status", "data", "errors", "messages", "warnings", "metadata"}


def uapi(response: httpx2.Response, status: int | None = None, http: int = 200) -> dict[str, Any]:
    assert response.status_code == http, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert set(body) == KEYS, body
    assert body["status"] in (0, 1)
    for key in ("errors", "messages", "warnings"):
        assert body[key] is None or (isinstance(body[key], list) and body[key]), body  # null, never []
    assert isinstance(body["metadata"], dict)
    if status is not None:
        assert body["status"] == status, body
    if body["status"] == 0:
        assert body["errors"], body
    return body
