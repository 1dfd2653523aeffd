"""WHM's account functions: createacct, listaccts, accountsummary, (un)suspendacct, listsuspended, removeacct,
passwd, modifyacct, changepackage, domainuserdata, showbw (cPanel's parameters, fields and messages)."""

from __future__ import annotations

import datetime
from typing import Any

from hostpanel.domain.errors import InvalidInput, NotFound, PermissionDenied
from hostpanel.domain.whm.access import privileges
from hostpanel.domain.whm.packages import LIMIT_KEYS, parse_value
from hostpanel.domain.whm.provisioning import ROOT_ONLY_ARGUMENTS, NewAccount
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Param
from hostpanel.modules.whm.module import USER, module, reason, user_argument

YES = ("1", "y", "yes")
# modifyacct's case-sensitive keys that set a limit, and the limit each sets.
MODIFY_LIMITS = {key: key for key in LIMIT_KEYS} | {"MAXPARK": "MAXPARK", "HASCGI": "CGI", "HASSHELL": "HASSHELL"}


@module.whm(
    "createacct",
    ("create-acct",),
    "Create an account (with its home, on a package); `reason` is “Account Creation Ok”.",
    writes=True,
    params=(
        Param("username", "1-16 lowercase letters and digits, starting with a letter.", True),
        Param("domain", "The account's main domain.", True),
        Param("plan", "The package (default `default`); a reseller's may be named without its prefix."),
        Param("password", "The password (or `pass`); generated when absent."),
        Param("contactemail", "The contact address for notices."),
        Param("owner", "The owning reseller (root only; a reseller owns what it creates)."),
        Param("reseller", "1 to make the new account a reseller too (root only).", type="boolean"),
        Param("quota", "Disk quota in MB (`unlimited` or 0: none); also maxpop, maxftp, maxsql, ... as addpkg."),
    ),
)
def createacct(call: Call) -> dict[str, Any]:
    args = call.args
    held = privileges(call.principal)
    if not held.is_root:
        for name in ROOT_ONLY_ARGUMENTS:
            if args.get(name) not in (None, "", "0"):
                raise PermissionDenied(
                    f"You cannot use the “{name}” argument because you do not have root access.", missing="all"
                )
    username = args.get("username") or args.get("user")
    if not username:
        raise InvalidInput("username", "The “username” parameter is required.")
    domain = args.get("domain")
    if not domain:
        raise InvalidInput("domain", "The “domain” parameter is required.")
    make_reseller = (args.get("reseller") or "0").lower() in YES
    if make_reseller and not held.is_root:
        raise PermissionDenied("Only root may make resellers.", missing="all")
    wanted = NewAccount(
        username=username.strip(),
        domain=domain.strip(),
        password=args.get("password") or args.get("pass") or None,
        email=args.get("contactemail") or None,
        plan=(args.get("plan") or args.get("pkgname") or "default").strip(),
        owner=(args.get("owner") or "").strip() or None,
        settings=_package_argument(call),
        reseller=make_reseller,
    )
    created = call.services.provisioning.create(wanted)
    if make_reseller:
        call.services.resellers.setup(created.account.username, make_owner=False)
    server = call.services.provisioning.server
    reason(call, "Account Creation Ok", created.log)
    names = [*call.services.provisioning.nameservers(created.account), None, None, None, None]
    return {
        "ip": server.shared_ip,
        "package": created.package.name,
        "nameserver": names[0],
        "nameserver2": names[1],
        "nameserver3": names[2],
        "nameserver4": names[3],
        "nameservera": None,
        "nameservera2": None,
        "nameservera3": None,
        "nameservera4": None,
        "nameserverentry": None,
        "nameserverentry2": None,
        "nameserverentry3": None,
        "nameserverentry4": None,
    }


def _package_argument(call: Call) -> Any:
    """createacct's package overrides (quota, maxpop, ...), with `ip` as y/n/1 for a dedicated address."""

    def given(name: str) -> str | None:
        if name == "ip":
            value = call.args.get("ip")
            return None if value is None else ("y" if value.lower() in YES else "n")
        return call.args.get(name)

    return given


def _want(call: Call) -> set[str] | None:
    text = call.args.get("want")
    return {field.strip() for field in text.split(",") if field.strip()} | {"user", "domain"} if text else None


def _records(call: Call, accounts: list[Any]) -> list[dict[str, Any]]:
    want = _want(call)
    disk = want is None or bool(want & {"diskused"})
    records = call.services.provisioning.records(accounts, with_disk=disk)
    if want is None:
        return records
    return [{key: value for key, value in record.items() if key in want} for record in records]


@module.whm(
    "listaccts",
    ("list-accts",),
    "List the accounts the caller reaches; `search` is an unanchored, case-insensitive regular expression (the "
    "exact match first) unless `searchmethod=exact`.",
    returns_list=True,
    params=(
        Param("search", "What to look for."),
        Param("searchtype", "domain, ip, user (default), package, owner or domain_and_user."),
        Param("searchmethod", "`exact` for an exact match instead of a regular expression."),
        Param("want", "Comma-separated fields to return (user and domain always)."),
    ),
)
def listaccts(call: Call) -> dict[str, Any] | None:
    exact = call.args.get("searchmethod") == "exact"
    accounts = call.services.provisioning.search(call.args.get("search"), call.args.get("searchtype"), exact)
    if not accounts:
        if exact and (call.args.get("searchtype") or "user") == "user" and call.args.get("search"):
            raise NotFound("No accounts found.")
        return None  # cPanel: zero matches are a success without data
    return {"acct": _records(call, accounts)}


@module.whm(
    "accountsummary",
    ("acct-summary",),
    "One account's listaccts fields, by `user` or `domain`.",
    params=(Param("user", "The account's user name."), Param("domain", "Or one of its domains.")),
)
def accountsummary(call: Call) -> dict[str, Any]:
    provisioning = call.services.provisioning
    user, domain = call.args.get("user"), call.args.get("domain")
    if not user and not domain:
        raise InvalidInput("user", "You must specify a user or domain to get a summary of.")
    try:
        account = provisioning.reach(user) if user else provisioning.by_domain(domain or "")
    except (NotFound, PermissionDenied):
        raise NotFound("Account does not exist.") from None
    return {"acct": [provisioning.record(account)]}


@module.whm(
    "suspendacct",
    ("suspend-acct",),
    "Suspend an account: its sign-ins, tokens, sessions, single sign-on links and mailboxes stop at once.",
    writes=True,
    params=(
        USER,
        Param("reason", "Why (shown in listaccts)."),
        Param("disallowun", "1: only root may unsuspend it.", type="boolean"),
    ),
)
def suspendacct(call: Call) -> None:
    user = user_argument(call)
    locked = (call.args.get("disallowun") or "0") in YES
    call.services.provisioning.suspend(user, call.args.get("reason"), locked)
    reason(call, "OK", f"Suspending account {user}. Account is now suspended.\n")


@module.whm("unsuspendacct", ("suspend-acct",), "Lift an account's suspension.", writes=True, params=(USER,))
def unsuspendacct(call: Call) -> None:
    user = user_argument(call)
    call.services.provisioning.unsuspend(user)
    reason(call, "OK", f"Unsuspending account {user}. Account is now active.\n")


@module.whm("listsuspended", ("suspend-acct",), "The suspended accounts the caller reaches.", returns_list=True)
def listsuspended(call: Call) -> dict[str, Any]:
    accounts = call.services.provisioning.search(None, None, suspended_only=True)
    return {
        "account": [
            {
                "user": account.username,
                "owner": account.owner,
                "reason": account.suspend_reason or "",
                "time": _when(account.suspended_at),
                "unixtime": account.suspended_at,
                "is_locked": 1 if account.suspend_locked else 0,
            }
            for account in accounts
        ]
    }


def _when(epoch: int | None) -> str | None:
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%a %b %d %H:%M:%S %Y")


@module.whm(
    "removeacct",
    ("kill-acct",),
    "Terminate an account: its home, mail, tokens and sessions go; its activity log stays.",
    writes=True,
    params=(
        Param("user", "The account (or `username`).", True),
        Param("keepdns", "1 or y: keep the DNS zone."),
    ),
)
def removeacct(call: Call) -> None:
    user = user_argument(call)
    call.services.provisioning.remove(user)
    reason(call, f"{user} account removed", f"Removing account {user}. Account removed.\n")


@module.whm(
    "passwd",
    ("passwd",),
    "Set an account's password (`password`, or `pass` as API 0 callers send it).",
    writes=True,
    params=(USER, Param("password", "The new password (API 0: `pass`).", True)),
)
def passwd(call: Call) -> dict[str, Any]:
    user = user_argument(call)
    password = call.args.get("password") or call.args.get("pass")
    if not password:
        raise InvalidInput("password", "No password supplied: “password” is a required argument.")
    call.services.provisioning.set_password(user, password)
    reason(call, f"Password changed for user “{user}”.", f"Password for {user} has been changed.\n")
    return {"app": [{"app": "system"}, {"app": "mail"}, {"app": "web"}]}


@module.whm(
    "changepackage",
    ("upgrade-account",),
    "Move an account to another package: its limits and feature list become the package's.",
    writes=True,
    params=(USER, Param("pkg", "The package.", True)),
)
def changepackage(call: Call) -> None:
    user = user_argument(call)
    account = call.services.provisioning.change_package(user, (call.args.get("pkg") or "").strip())
    reason(call, "OK", f"Changing the package of {user} to {account.plan}.\n")


@module.whm(
    "modifyacct",
    ("edit-account",),
    "Change an account's limits (QUOTA, MAXPOP, ... case-sensitive), contact address or owner (root only).",
    writes=True,
    params=(
        USER,
        Param("contactemail", "A new contact address."),
        Param("owner", "A new owner (root only)."),
        Param("MAXPOP", "A limit, as the package keys (QUOTA, BWLIMIT, MAXFTP, MAXSQL, MAXSUB, ...)."),
    ),
)
def modifyacct(call: Call) -> dict[str, Any]:
    args = call.args
    user = args.get("user")
    if not user:
        raise InvalidInput("user", "Must at least specify a user to modify.")
    for unsupported in ("newuser", "domain"):
        if args.get(unsupported):
            raise InvalidInput(unsupported, f"This server cannot change an account's “{unsupported}”.")
    limits = {key: parse_value(key, args.get(name) or "") for name, key in MODIFY_LIMITS.items() if args.get(name)}
    email = args.get("contactemail")
    account = call.services.provisioning.modify(user.strip(), limits, email, args.get("owner") or None)
    messages = [f"Modified {key} to {value}." for key, value in sorted(limits.items())]
    call.metadata["output"] = {"messages": messages, "warnings": []}
    return {"user": account.username, "domain": None, **{"cpuser": {**account.limits, "OWNER": account.owner}}}


@module.whm(
    "domainuserdata",
    ("acct-summary",),
    "Where one of the caller's domains lives: its account, owner, home and document root.",
    params=(Param("domain", "The domain.", True),),
)
def domainuserdata(call: Call) -> dict[str, Any]:
    domain = call.args.require("domain")
    provisioning = call.services.provisioning
    account = provisioning.by_domain(domain)
    home = f"/home/{account.username}"
    return {
        "userdata": {
            "user": account.username,
            "owner": account.owner,
            "servername": domain.lower(),
            "serveralias": f"www.{domain.lower()}",
            "homedir": home,
            "documentroot": f"{home}/public_html",
            "ip": provisioning.server.shared_ip,
            "usecanonicalname": "Off",
        }
    }


@module.whm(
    "showbw",
    ("show-bandwidth",),
    "Bandwidth by account. This server does not meter web traffic yet, so `totalbytes` is 0 and `limit` is the "
    "account's BWLIMIT.",
    returns_list=True,
    params=(Param("search", "As listaccts."), Param("searchtype", "As listaccts.")),
)
def showbw(call: Call) -> dict[str, Any]:
    accounts = call.services.provisioning.search(call.args.get("search"), call.args.get("searchtype"))
    rows = []
    for account, record in zip(accounts, call.services.provisioning.records(accounts, False), strict=True):
        limit = account.limits.get("BWLIMIT", "unlimited")
        rows.append({
            "user": account.username,
            "maindomain": record["domain"],
            "owner": account.owner,
            "totalbytes": 0,
            "limit": "0" if limit == "unlimited" else str(int(limit) * 1024 * 1024),
            "bwlimited": 0,
            "deleted": 0,
        })  # fmt: skip
    return {"acct": rows, "month": None, "year": None, "totalused": 0, "reseller": call.principal.account.username}


@module.whm(
    "editquota",
    ("quota",),
    "Set an account's disk quota (MB, or `unlimited`).",
    writes=True,
    params=(USER, Param("quota", "MB, or `unlimited`.", True)),
)
def editquota(call: Call) -> None:
    user = user_argument(call)
    quota = parse_value("QUOTA", call.args.require("quota"))
    call.services.provisioning.modify(user, {"QUOTA": quota}, None, None)
    reason(call, f"Set the disk quota of {user} to {quota}.")


@module.whm(
    "limitbw",
    ("limit-bandwidth",),
    "Set an account's monthly bandwidth limit (MB, or `unlimited`).",
    writes=True,
    params=(USER, Param("bwlimit", "MB, or `unlimited`.", True)),
)
def limitbw(call: Call) -> dict[str, Any]:
    user = user_argument(call)
    limit = parse_value("BWLIMIT", call.args.require("bwlimit"))
    account = call.services.provisioning.modify(user, {"BWLIMIT": limit}, None, None)
    unlimited = limit == "unlimited"
    return {
        "bwlimits": [
            {
                "user": account.username,
                "bwlimit": 0 if unlimited else int(limit) * 1024 * 1024,
                "human_bwlimit": "unlimited" if unlimited else f"{limit} MB",
                "unlimited": 1 if unlimited else 0,
                "bwlimitenable": 0 if unlimited else 1,
            }
        ]
    }


@module.whm(
    "getdomainowner",
    ("acct-summary", "list-accts"),
    "The account a domain belongs to (null when unknown or not the caller's).",
    params=(Param("domain", "The domain.", True),),
)
def getdomainowner(call: Call) -> dict[str, Any]:
    try:
        account = call.services.provisioning.by_domain(call.args.require("domain"))
    except NotFound:
        return {"user": None}
    return {"user": account.username}
