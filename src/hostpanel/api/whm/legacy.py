"""WHM API 0: the frozen per-function replies of calls made without `api.version=1`, which WHMCS and Blesta read.

Each function's API 1 answer is rewritten into cPanel's API 0 shape for it. A function without an API 0 shape here
answers in API 1's envelope (cPanel has none for it; the clients that call it send `api.version=1`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PERMISSION_DENIED = "Permission Denied"
# Functions whose API 0 reply is `{"result":[{"status","statusmsg",...}]}`.
RESULT_LIST = frozenset({
    "removeacct", "changepackage", "suspendacct", "unsuspendacct", "modifyacct", "setupreseller", "unsetupreseller",
    "setacls", "setresellerlimits", "setresellernameservers", "suspendreseller", "unsuspendreseller",
    "terminatereseller", "addpkg", "editpkg", "killpkg", "limitbw", "setsiteip", "editquota",
})  # fmt: skip


def _items(data: Any, key: str) -> list[Any]:
    found = data.get(key) if isinstance(data, dict) else None
    return list(found) if isinstance(found, list) else []


def _createacct(data: Any, reason: str, raw: str) -> dict[str, Any]:
    return {"result": [{"status": 1, "statusmsg": reason, "options": data or {}, "rawout": raw}]}


def _passwd(data: Any, reason: str, raw: str) -> dict[str, Any]:
    return {"passwd": [{"status": 1, "statusmsg": reason, "rawout": raw, "services": _items(data, "app")}]}


def _listaccts(data: Any, _reason: str, _raw: str) -> dict[str, Any]:
    return {"status": 1, "statusmsg": "Ok", "acct": _items(data, "acct")}


def _listsuspended(data: Any, _reason: str, _raw: str) -> dict[str, Any]:
    return {"status": 1, "statusmsg": "Ok", "accts": _items(data, "account")}


def _resellerstats(data: Any, _reason: str, _raw: str) -> dict[str, Any]:
    reseller = dict(data.get("reseller") or {}) if isinstance(data, dict) else {}
    accounts = reseller.pop("acct", [])
    return {"result": {"status": 1, "statusmsg": "Fetched Reseller Data OK", **reseller, "accts": accounts}}


def _listacls(data: Any, _reason: str, _raw: str) -> dict[str, Any]:
    return {"acls": {item["name"]: item["privileges"] for item in _items(data, "acl")}}


def _renamed(key: str, new: str) -> Callable[[Any, str, str], dict[str, Any]]:
    return lambda data, _reason, _raw: {new: _items(data, key)}


SHAPES: dict[str, Callable[[Any, str, str], dict[str, Any]]] = {
    "createacct": _createacct,
    "passwd": _passwd,
    "listaccts": _listaccts,
    "accountsummary": _listaccts,
    "listsuspended": _listsuspended,
    "resellerstats": _resellerstats,
    "listacls": _listacls,
    "listpkgs": _renamed("pkg", "package"),
    "applist": _renamed("app", "app"),
    "listresellers": _renamed("reseller", "reseller"),
    "listips": _renamed("ip", "result"),
    "version": lambda data, _reason, _raw: {"version": (data or {}).get("version")},
    "showbw": lambda data, _reason, _raw: {"bandwidth": [{**(data or {}), "acct": _items(data, "acct")}]},
}


def has_shape(command: str) -> bool:
    return command in SHAPES or command in RESULT_LIST


def success(command: str, data: Any, metadata: dict[str, Any]) -> dict[str, Any]:
    reason = str(metadata.get("reason", "OK"))
    raw = str((metadata.get("output") or {}).get("raw", ""))
    if command in SHAPES:
        return SHAPES[command](data, reason, raw)
    extra = data if isinstance(data, dict) else {}
    return {"result": [{"status": 1, "statusmsg": reason, **extra}]}


def failure(command: str, reason: str, denied: bool = False) -> dict[str, Any]:
    """A failed call in the function's shape; a privilege refusal also says `Permission Denied` at the top, which
    WHMCS looks for."""
    message = PERMISSION_DENIED if denied else reason
    top = {"status": 0, "statusmsg": message}
    if command == "passwd":
        return {**top, "passwd": [{"status": 0, "statusmsg": message, "rawout": "", "services": []}]}
    if command in ("listaccts", "accountsummary", "listsuspended"):
        return top
    if command == "resellerstats":
        return {**top, "result": top}
    return {**top, "result": [{"status": 0, "statusmsg": message}]}
