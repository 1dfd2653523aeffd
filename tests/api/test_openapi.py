"""The OpenAPI document describes every registered function, with its scope and parameters."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from hostpanel.api.openapi import build_openapi
from hostpanel.functions.registry import Function
from hostpanel.modules import default_registry

DOCUMENT = build_openapi(default_registry())


def test_the_served_document_is_the_one_built_from_the_registry(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document == json.loads(json.dumps(DOCUMENT))
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["cpanelToken"]["name"] == "Authorization"


@pytest.mark.parametrize("function", list(default_registry().functions()), ids=lambda f: f"{f.module}::{f.name}")
def test_every_function_is_described(function: Function) -> None:
    path = DOCUMENT["paths"][f"/execute/{function.module}/{function.name}"]
    assert set(path) == {"get", "post"}
    assert str(function.scope) in path["get"]["description"]
    names = {p["name"] for p in path["get"]["parameters"]}
    assert {param.name for param in function.params} <= names
    assert function.summary
    assert all(param.description for param in function.params)


def test_uploads_and_downloads_are_described(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    upload = paths["/execute/Fileman/upload_files"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["properties"]["file-0"]["format"] == "binary"
    download = paths["/execute/Fileman/download"]["get"]["responses"]["200"]["content"]
    assert "application/octet-stream" in download


def test_the_lifecycle_is_described() -> None:
    document = build_openapi(default_registry())
    listing = json.dumps(document["paths"]["/execute/Tokens/list"])
    for field in ("hp_rotating", "hp_old_secret_valid_until", "hp_max_uses", "hp_uses", "hp_calls_by_day"):
        assert field in listing, field
    rotate = json.dumps(document["paths"]["/execute/Tokens/rotate"])
    assert "grace_period" in rotate and "604800" in rotate
    assert "max_uses" in json.dumps(document["paths"]["/execute/Tokens/create_full_access"])
