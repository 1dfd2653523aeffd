"""The OpenAPI description of the UAPI surface, generated from the function registry so it cannot drift."""

from __future__ import annotations

from typing import Any

from hostpanel import __version__
from hostpanel.api import leaks
from hostpanel.domain.permissions import SCOPE_DESCRIPTIONS, ScopeModule
from hostpanel.domain.whm.acls import ACL_DESCRIPTIONS
from hostpanel.functions.registry import WHM1, Function, Param, Registry

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "boolean": {"type": "integer", "enum": [0, 1]},
}
_MESSAGES = {"type": "array", "items": {"type": "string"}, "nullable": True}

RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "cPanel's UAPI result object, served bare. HTTP 200 even when status is 0.",
    "required": ["status", "data", "errors", "messages", "warnings", "metadata"],
    "properties": {
        "status": {"type": "integer", "enum": [0, 1]},
        "data": {"nullable": True, "description": "The function's output; null on failure."},
        "errors": _MESSAGES,
        "messages": _MESSAGES,
        "warnings": _MESSAGES,
        "metadata": {"type": "object", "additionalProperties": True},
    },
}

LIST_PARAMS = [
    Param("api.filter_column", "Filter: column name (`*` for any); suffix _0, _1, ... for several filters."),
    Param(
        "api.filter_type",
        "Filter: contains, begins, ends, matches, eq, ne, lt, gt, lt_handle_unlimited, gt_handle_unlimited.",
    ),
    Param("api.filter_term", "Filter: the value to compare with."),
    Param("api.sort_column", "Sort: column name; suffix _0, _1, ... for several keys."),
    Param("api.sort_method", "Sort: lexicographic, numeric, numeric_zero_as_max, ipv4."),
    Param("api.sort_reverse", "Sort: 1 for descending.", type="boolean"),
    Param("api.paginate_start", "Pagination: first record, counting from 1.", type="integer"),
    Param("api.paginate_size", "Pagination: records per page (default 100).", type="integer"),
    Param("api.paginate_page", "Pagination: page number (an alternative to paginate_start).", type="integer"),
    Param("api.columns_0", "Columns: keep only the named keys (api.columns_1, ... for more)."),
]


def _parameter(param: Param) -> dict[str, Any]:
    schema = dict(_TYPES[param.type])
    if param.example is not None:
        schema["example"] = param.example
    return {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "description": param.description,
        "schema": schema,
    }


def _operation(function: Function, method: str) -> dict[str, Any]:
    params = list(function.params) + (LIST_PARAMS if function.returns_list else [])
    feature = f" Needs the account feature `{function.feature}`." if function.feature else ""
    operation: dict[str, Any] = {
        "operationId": f"{function.module}_{function.name}_{method}",
        "tags": [function.module],
        "summary": function.summary,
        "description": f"Needs the scope `{function.scope}`.{feature}",
        "responses": {
            "200": {
                "description": "The UAPI result.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Result"}}},
            },
            "401": {"description": "Authentication failed (any reason; the same answer for all)."},
        },
    }
    if method == "get":
        operation["parameters"] = [_parameter(param) for param in params]
    else:
        properties = {param.name: {**_TYPES[param.type], "description": param.description} for param in params}
        required = [param.name for param in params if param.required]
        schema = {"type": "object", "properties": properties, **({"required": required} if required else {})}
        content: dict[str, Any] = {"application/x-www-form-urlencoded": {"schema": schema}}
        if function.accepts_uploads:
            files = {"type": "string", "format": "binary", "description": "Any number of file parts (any field name)."}
            content["multipart/form-data"] = {"schema": {**schema, "properties": {**properties, "file-0": files}}}
        operation["requestBody"] = {"required": bool(required) or function.accepts_uploads, "content": content}
    if function.returns_file:
        operation["responses"]["200"] = {
            "description": "The file's bytes; a failure is the usual JSON result.",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    return operation


def build_openapi(registry: Registry) -> dict[str, Any]:
    paths: dict[str, Any] = {
        f"/execute/{function.module}/{function.name}": {
            method: _operation(function, method) for method in ("get", "post")
        }
        for function in registry.functions()
    }
    paths["/healthz"] = {
        "get": {
            "operationId": "health",
            "summary": "Liveness and database reachability; no authentication.",
            "security": [],
            "responses": {"200": {"description": "Healthy."}, "503": {"description": "The database is unreachable."}},
        }
    }
    paths[leaks.PATH] = {
        "post": {
            "operationId": "report_leaked_tokens",
            "summary": "Report leaked tokens: any live token in the body is revoked and its owner mailed. No "
            "authentication; the answer never says whether a token was valid. Rate-limited per address.",
            "security": [],
            "requestBody": {
                "required": True,
                "content": {
                    "text/plain": {"schema": {"type": "string", "maxLength": leaks.MAX_REPORT_BYTES}},
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "properties": {"token": {"type": "string"}}}
                    },
                },
            },
            "responses": {
                "202": {
                    "description": "Received (the same answer whatever the body held).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Result"}}},
                },
                "429": {"description": "Too many reports from this address; see Retry-After."},
            },
        }
    }
    scopes = "\n".join(f"- `{module}:read` / `{module}:write`: {SCOPE_DESCRIPTIONS[module]}" for module in ScopeModule)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "hostpanel UAPI",
            "version": __version__,
            "description": "cPanel-UAPI-compatible API. Authenticate with `Authorization: cpanel USER:TOKEN`. "
            "Arguments come from the query string and, for POST, a form body. Scopes:\n" + scopes,
        },
        "servers": [{"url": "/"}],
        "security": [{"cpanelToken": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "cpanelToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`cpanel USER:TOKEN` (scheme case-insensitive).",
                }
            },
            "schemas": {"Result": RESULT_SCHEMA},
        },
    }


WHM_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "description": "WHM API 1's envelope. HTTP 200 even when metadata.result is 0. Without `api.version=1` the "
    "functions WHMCS and Blesta call that way answer in cPanel's API 0 shape for that function instead.",
    "required": ["metadata"],
    "properties": {
        "data": {"description": "The function's output; absent when there is none."},
        "metadata": {
            "type": "object",
            "required": ["command", "version", "result", "reason"],
            "properties": {
                "command": {"type": "string"},
                "version": {"type": "integer", "enum": [1]},
                "result": {"type": "integer", "enum": [0, 1]},
                "reason": {"type": "string"},
            },
            "additionalProperties": True,
        },
    },
}
WHM_PARAMS = [Param("api.version", "1 for WHM API 1's envelope (else the frozen API 0 replies).", type="integer")]


def _whm_operation(function: Function, method: str) -> dict[str, Any]:
    acls = function.acls or ()
    needs = " or ".join(f"`{acl}`" for acl in acls) if acls else "no ACL (any WHM caller)"
    ours = " Beyond cPanel: this server's own function." if function.name.startswith("hp_") else ""
    params = [*WHM_PARAMS, *function.params]
    operation: dict[str, Any] = {
        "operationId": f"whm_{function.name}_{method}",
        "tags": ["WHM (ours)" if function.name.startswith("hp_") else "WHM"],
        "summary": function.summary,
        "description": f"Needs {needs}.{ours}",
        "responses": {
            "200": {
                "description": "The WHM API 1 envelope.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}},
            },
            "403": {"description": "Authentication failed (any reason; cPanel's `Access denied` body)."},
        },
    }
    if method == "get":
        operation["parameters"] = [_parameter(param) for param in params]
    else:
        properties = {param.name: {**_TYPES[param.type], "description": param.description} for param in params}
        schema = {"type": "object", "properties": properties}
        operation["requestBody"] = {"content": {"application/x-www-form-urlencoded": {"schema": schema}}}
    return operation


def build_whm_openapi(registry: Registry) -> dict[str, Any]:
    """WHM API 1 as this server offers it on the WHM port, our `hp_` functions included."""
    paths = {
        f"/json-api/{function.name}": {method: _whm_operation(function, method) for method in ("get", "post")}
        for function in sorted(registry.functions(WHM1), key=lambda f: f.name)
    }
    acls = "\n".join(f"- `{name}`: {text}" for name, text in sorted(ACL_DESCRIPTIONS.items()))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "hostpanel WHM API 1",
            "version": __version__,
            "description": "cPanel-WHM-API-1-compatible API for root and resellers. Authenticate with "
            "`Authorization: whm USER:TOKEN` (scheme in any case) or HTTP Basic with the password (and "
            "`X-CPANEL-OTP` with two-factor on). A `/cpsessNNNNNNNNNN` prefix is accepted. ACLs:\n" + acls,
        },
        "servers": [{"url": "/"}],
        "security": [{"whmToken": []}, {"basic": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "whmToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`whm USER:TOKEN`.",
                },
                "basic": {"type": "http", "scheme": "basic"},
            },
            "schemas": {"Envelope": WHM_ENVELOPE},
        },
    }
