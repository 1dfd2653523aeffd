"""cpanel: an account's cPanel API 2 or UAPI function called through WHM, as WHMCS's extras, gufy and pycpanel do
(`cpanel_jsonapi_user` (else `user`), `cpanel_jsonapi_module`, `cpanel_jsonapi_func`, `cpanel_jsonapi_apiversion`
2 or 3, then the function's own arguments). The function runs as the account through the gate's delegate, so the
caller reaches only the accounts it may act on (root refused as a target), only that API's namespace (never WHM's
own functions), and the account's features apply; its answer is written in the proxied API's shape."""

from __future__ import annotations

from hostpanel.domain.accounts.model import ROOT
from hostpanel.domain.errors import InvalidInput, PermissionDenied
from hostpanel.functions.args import Args
from hostpanel.functions.call import PROXY_PREFIX, Call, Proxied, proxied_version
from hostpanel.functions.registry import API2, UAPI, Param
from hostpanel.modules.whm.module import module

PREFIX = PROXY_PREFIX
# The proxied API by cpanel_jsonapi_apiversion; cPanel's API 1 (1) is not offered by this server.
VERSIONS = {"2": (2, API2), "3": (3, UAPI)}
MISSING_USER = "User parameter is invalid or was not supplied"


@module.whm(
    "cpanel",
    ("cpanel-api",),
    "Call an account's cPanel API 2 or UAPI function: `cpanel_jsonapi_user` (else `user`), `cpanel_jsonapi_module`, "
    "`cpanel_jsonapi_func`, `cpanel_jsonapi_apiversion` (2, or 3 for UAPI), then the function's arguments. The "
    'answer is that API\'s: {"cpanelresult":{...}} for API 2, {"apiversion":3,"module","func","result":{...}} for '
    "UAPI, whatever `api.version`.",
    own_transactions=True,
    params=(
        Param("cpanel_jsonapi_user", "The account (else `user`).", True),
        Param("cpanel_jsonapi_module", "The module, e.g. ZoneEdit (API 2) or Email (UAPI).", True),
        Param("cpanel_jsonapi_func", "The function, e.g. fetchzones.", True),
        Param("cpanel_jsonapi_apiversion", "2 (API 2, the default) or 3 (UAPI).", type="integer"),
    ),
)
def cpanel(call: Call) -> Proxied:
    args = call.args
    version = proxied_version(args.get)
    if version not in VERSIONS:
        raise InvalidInput(
            PREFIX + "apiversion", f"This server offers cPanel API 2 and UAPI (3), not API {version[:8]}."
        )
    number, api = VERSIONS[version]
    user_key = PREFIX + "user" if args.get(PREFIX + "user") else "user"
    user = (args.get(user_key) or "").strip()
    if not user:
        raise InvalidInput(user_key, MISSING_USER)
    if user == ROOT:
        raise PermissionDenied(f"Access Denied to {ROOT}", missing="account:root")
    module_name, function = (args.get(PREFIX + name) or "" for name in ("module", "func"))
    if not module_name or not function:
        raise InvalidInput(PREFIX + "func", "The “cpanel_jsonapi_module” and “cpanel_jsonapi_func” are required.")
    account = call.services.provisioning.reach(user)
    passed = Args([(key, value) for key, value in args.pairs() if not key.startswith(PREFIX) and key != user_key])
    assert call.delegate is not None, "the gate hands every call its delegate"
    answer = call.delegate(account, module_name, function, passed, api=api)
    return Proxied(
        number,
        module_name,
        function,
        answer.data,
        answer.error,
        answer.messages,
        answer.warnings,
        answer.metadata,
    )
