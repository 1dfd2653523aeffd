"""cPanel's UAPI result object, served bare over HTTP, and the one mapping of domain errors into it."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.tokens import secret
from hostpanel.functions.call import FailureWithData


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
