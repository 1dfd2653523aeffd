"""The one module of WHM API 1's namespace, and what its functions share."""

from __future__ import annotations

from hostpanel.domain.errors import InvalidInput
from hostpanel.functions.call import Call
from hostpanel.functions.registry import WHM1, Module, Param

module = Module(
    "WHM",
    None,
    "WHM API 1: the server's administration for root and resellers, each function needing one of its ACLs.",
    api=WHM1,
)

USER = Param("user", "The account's user name.", True)
ROOT_ONLY = ("all",)


def user_argument(call: Call, *names: str) -> str:
    """The first of `names` (default `user`, then `username`) given; cPanel's message when none is."""
    for name in names or ("user", "username"):
        value = call.args.get(name)
        if value:
            return value.strip()
    raise InvalidInput("user", "The “user” parameter is required.")


def reason(call: Call, text: str, raw: str | None = None) -> None:
    """The envelope's `metadata.reason` (and `output.raw`, the log some clients read)."""
    call.metadata["reason"] = text
    if raw is not None:
        call.metadata["output"] = {"raw": raw}
