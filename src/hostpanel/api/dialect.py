"""What a dialect of the API writes: the only part of serving an API that differs between UAPI, cPanel API 2 and
WHM API 1. Everything else (reading the request, admission, authorisation, audit, the call) is shared
(`api.endpoint`, `functions.gate`).

A dialect is a small object; adding one is a module that implements this protocol and a route in `app.py`.
"""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response

from hostpanel.domain.errors import HostpanelError
from hostpanel.functions.gate import Answer, Presented, Target
from hostpanel.functions.listing import ListOptions


class Dialect(Protocol):
    """How one API is spoken over HTTP."""

    # Argument names that are the dialect's own meta-arguments (UAPI: `api.`), not the function's.
    meta_prefixes: tuple[str, ...]

    def bind(self, request: Request, pairs: list[tuple[str, str]]) -> Dialect:
        """This dialect for one request whose arguments are `pairs` (WHM answers API 0 or API 1 by them, and names
        the function in every answer); a dialect that needs nothing of the request returns itself."""
        ...

    def bind_local(self, function: str, pairs: list[tuple[str, str]]) -> Dialect:
        """`bind` for a call made on the server itself, without a request."""
        ...

    def local_target(self, module: str, function: str) -> Target:
        """The function a call made on the server itself names."""
        ...

    def target(self, request: Request, pairs: list[tuple[str, str]]) -> Target:
        """The function the request names (from its path or its arguments); an unknown one is refused later."""
        ...

    def credentials(self, request: Request) -> Presented | None:
        """The username and token (or, where the dialect reads it, password) the request presents, or None when it
        presents none this dialect reads."""
        ...

    def list_options(self, meta: dict[str, str]) -> ListOptions:
        """What the meta-arguments ask of a list result (filters, sorts, pages, columns)."""
        ...

    def success(self, answer: Answer, options: ListOptions) -> Response:
        """A function's answer, its lists post-processed as `options` ask."""
        ...

    def error(self, error: HostpanelError) -> Response:
        """A refusal or failure with the error's message (and data, for `FailureWithData`)."""
        ...

    def failure(self, message: str, status: int = 200) -> Response:
        """A failure of the call as a whole, with this HTTP status (the caller adds the headers it needs)."""
        ...

    def unauthenticated(self) -> Response:
        """The one answer to every authentication failure."""
        ...
