"""The OpenAPI document describes every registered function, with its scope and parameters."""

from __future__ import annotations

from starlette.testclient import TestClient

from hostpanel.api.modules import default_registry


def test_every_function_is_described(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for function in default_registry():
        path = document["paths"][f"/execute/{function.module}/{function.name}"]
        assert set(path) == {"get", "post"}
        assert str(function.scope) in path["get"]["description"]
        names = {p["name"] for p in path["get"]["parameters"]}
        assert {param.name for param in function.params} <= names
        assert function.summary
        assert all(param.description for param in function.params)
    assert document["components"]["securitySchemes"]["cpanelToken"]["name"] == "Authorization"
