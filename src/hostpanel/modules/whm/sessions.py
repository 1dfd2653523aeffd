"""create_user_session: a single sign-on link into an account's panel (or a reseller's WHM), usable once within
five minutes; and uapi_cpanel: a UAPI function called as one of the caller's accounts, through the same gate."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from hostpanel.domain.accounts.model import ROOT, Service
from hostpanel.domain.errors import InvalidInput, PermissionDenied
from hostpanel.domain.sessions.tickets import link
from hostpanel.domain.whm.access import AccessDenied, mine, privileges
from hostpanel.functions.args import Args
from hostpanel.functions.call import Call
from hostpanel.functions.registry import UAPI, Param
from hostpanel.functions.result import from_answer
from hostpanel.modules.whm.module import module, reason

SERVICES = {"cpaneld": Service.CPANEL, "whostmgrd": Service.WHM}
APP = re.compile(r"[0-9a-z_-]+", re.IGNORECASE)
# Where cPanel's app keys lead in this server's interface (an unknown but valid key leads home, as in cPanel).
APP_PAGES = {
    "Email_Accounts": "/email/accounts",
    "Email_Forwarders": "/email/forwarders",
    "FileManager_Home": "/files",
    "File_Manager": "/files",
    "Backup": "/backups",
    "Security_Tokens": "/security/tokens",
    "Api_Tokens": "/security/tokens",
    "Two_Factor_Authentication": "/security/two-factor",
    "Password_Change": "/security/password",
}


@module.whm(
    "create_user_session",
    ("create-user-session",),
    "A link that signs a browser in to `user`'s interface once, within five minutes, without the password.",
    writes=True,
    params=(
        Param("user", "The account (or reseller, or root for whostmgrd).", True),
        Param("service", "`cpaneld` (the account's panel) or `whostmgrd` (WHM).", True),
        Param("app", "A page to open, as cPanel's app keys (Email_Accounts, FileManager_Home, ...)."),
        Param("preferred_domain", "The host name the link uses."),
    ),
)
def create_user_session(call: Call) -> dict[str, Any]:
    args = call.args
    user = (args.get("user") or "").strip()
    if not user:
        raise InvalidInput("user", "The “user” parameter is required.")
    service_name = (args.get("service") or "").strip()
    if service_name not in SERVICES:
        raise InvalidInput("service", "The “service” parameter must be “cpaneld” or “whostmgrd”.")
    service = SERVICES[service_name]
    app = args.get("app")
    if app is not None and not APP.fullmatch(app):
        raise InvalidInput("app", f"The requested application, {app}, is invalid.")
    account = _target(call, user, service)
    ticket = call.services.single_sign_on.issue(call.principal, account, service)
    page = APP_PAGES.get(app or "") if service == Service.CPANEL else None
    server = call.services.server
    host = args.get("preferred_domain") or server.sso_host or server.hostname
    # The port is always named: WHMCS rewrites it for servers without TLS.
    base = f"{server.scheme}://{host}:{server.whm_port if service == Service.WHM else server.port}"
    url, prefix = link(base, account.username, ticket, page)
    reason(call, "Created session")
    return {
        "cp_security_token": prefix,
        "expires": ticket.expires_at,
        "service": service_name,
        "session": f"{account.username}:{quote(ticket.secret)}:create_user_session",
        "url": url,
    }


def _target(call: Call, user: str, service: Service) -> Any:
    """The account the link is for, with cPanel's refusals."""
    principal = call.principal
    accounts = call.services.accounts
    found = call.services.provisioning
    if user == ROOT:
        if service != Service.WHM or not privileges(principal).is_root:
            raise PermissionDenied(f"You do not have permission to create sessions for the user “{user}”.", "all")
        return accounts.root()
    try:
        account = found.reach(user) if user != principal.account.username else principal.account
    except AccessDenied:
        raise PermissionDenied(
            f"You do not have permission to create sessions for the user “{user}”.", f"account:{user}"
        ) from None
    except Exception:
        raise InvalidInput(
            "user", f"You cannot create a session for the user “{user}” because they do not exist."
        ) from None
    if not mine(principal, account):
        raise PermissionDenied(f"You do not have permission to create sessions for the user “{user}”.", "all")
    if not account.is_active:
        raise InvalidInput(
            "user", f"You cannot create a session for the user “{user}” because they are currently suspended."
        )
    if service == Service.WHM and not account.is_reseller:
        raise InvalidInput(
            "user", f"You cannot create a session for the user “{user}” because they are not a reseller."
        )
    return account


@module.whm(
    "uapi_cpanel",
    ("cpanel-api",),
    "Call a UAPI function as one of the caller's accounts (`cpanel.user`, `cpanel.module`, `cpanel.function`, then "
    "its own arguments); its result object is `data.uapi`, and `metadata.result` stays 1 even when it fails.",
    own_transactions=True,
    params=(
        Param("cpanel.user", "The account.", True),
        Param("cpanel.module", "The UAPI module, e.g. Email.", True),
        Param("cpanel.function", "The UAPI function, e.g. list_pops.", True),
    ),
)
def uapi_cpanel(call: Call) -> dict[str, Any]:
    args = call.args
    names = {name: args.get(f"cpanel.{name}") for name in ("user", "module", "function")}
    for name, value in names.items():
        if not value:
            raise InvalidInput(f"cpanel.{name}", f"The “cpanel.{name}” parameter is required.")
    if names["user"] == ROOT:
        raise PermissionDenied("The root user cannot call UAPI functions.", missing="account:root")
    account = call.services.provisioning.reach(names["user"] or "")
    assert call.delegate is not None, "the gate hands every call its delegate"
    passed = Args([(key, value) for key, value in args.pairs() if not key.startswith("cpanel.")])
    answer = call.delegate(account, names["module"] or "", names["function"] or "", passed, api=UAPI)
    return {
        "uapi": from_answer(
            answer.data, answer.error, messages=answer.messages, warnings=answer.warnings, metadata=answer.metadata
        )
    }
