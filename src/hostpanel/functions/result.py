"""cPanel's result shapes and the one mapping of domain errors into each: UAPI's result object (served bare by the
UAPI dialect, nested under `data.uapi` by WHM's uapi_cpanel) and WHM API 1's envelope (served by the WHM dialect,
one per command in WHM's batch)."""

from __future__ import annotations

import secrets
from typing import Any

from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.tokens import secret
from hostpanel.domain.whm.access import AccessDenied
from hostpanel.functions.call import FailureWithData
from hostpanel.functions.listing import ListError, ListOptions, Presorted, apply
from hostpanel.functions.registry import UnknownFunction


def result(
    status: int,
    data: Any = None,
    *,
    errors: list[str] | None = None,
    messages: list[str] | None = None,
    warnings: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Empty lists become null, as cPanel sends them; metadata is always an object.

    Errors, messages and warnings often echo what the caller sent (a function name, a token name, a scope); a token
    sent in the wrong place is redacted there, since scripts print and log these texts.
    """
    return {
        "status": 1 if status else 0,
        "data": data,
        "errors": _redacted(errors),
        "messages": _redacted(messages),
        "warnings": _redacted(warnings),
        "metadata": metadata or {},
    }


def _redacted(texts: list[str] | None) -> list[str] | None:
    return [secret.redact(text) for text in texts] if texts else None


def failure(message: str, **extra: Any) -> dict[str, Any]:
    return result(0, errors=[message], **extra)


def from_error(error: HostpanelError) -> dict[str, Any]:
    if isinstance(error, FailureWithData):
        return result(0, error.data, errors=[error.message])
    return failure(error.message)


ACCESS_DENIED = failure("Access denied")


def from_answer(
    data: Any,
    error: HostpanelError | None,
    *,
    messages: list[str],
    warnings: list[str],
    metadata: dict[str, Any],
    options: ListOptions | None = None,
) -> dict[str, Any]:
    """A function's answer (or failure) as the result object, its list post-processed as `options` ask."""
    if error is not None:
        return from_error(error)
    metadata, messages = dict(metadata), list(messages)
    if isinstance(data, list) and not all(isinstance(item, dict) for item in data):
        metadata["transformed"] = 1  # cPanel filters, sorts and pages only lists of objects
    elif isinstance(data, list | Presorted):
        try:
            outcome = apply(data, options or ListOptions())
        except ListError as failed:
            return failure(str(failed), metadata=metadata)
        data = outcome.records
        metadata.update(outcome.metadata)
        messages.extend(outcome.messages)
    return result(1, data, messages=messages, warnings=warnings, metadata=metadata)


# WHM API 1


def unknown_app(command: str, version: int) -> str:
    """cPanel's answer to a function it does not have (WHMCS recognises it by its start)."""
    return f"Unknown app ({command}) requested for this version ({version}) of the API."


def whm_reason(command: str, error: HostpanelError, version: int = 1) -> str:
    """The reason cPanel gives for an error; an account outside the caller's reach is an API failure with an XID."""
    if isinstance(error, UnknownFunction):
        return unknown_app(command, version)
    text = secret.redact(error.message)
    if isinstance(error, AccessDenied):
        return f"API failure: (XID {secrets.token_hex(3)}) {text}"
    return text


def whm_success(command: str, data: Any, metadata: dict[str, Any]) -> dict[str, Any]:
    """`data` is left out when None (listaccts with no match, api_token_get_details for an unknown token)."""
    extra = dict(metadata)
    reason = extra.pop("reason", "OK")
    result = extra.pop("result", 1)  # a batch with a failed command is a success whose result is 0
    body: dict[str, Any] = {} if data is None else {"data": data}
    body["metadata"] = {"command": command, "version": 1, "result": result, "reason": secret.redact(reason), **extra}
    return body


def whm_failure(command: str, reason: str, data: Any = None) -> dict[str, Any]:
    """`data` only for a failure that carries some (mass_edit_dns_zone's stale serial)."""
    body: dict[str, Any] = {} if data is None else {"data": data}
    body["metadata"] = {"command": command, "version": 1, "result": 0, "reason": secret.redact(reason)}
    return body
