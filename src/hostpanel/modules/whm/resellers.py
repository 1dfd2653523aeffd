"""WHM's reseller functions (root only, but myprivs): setupreseller, unsetupreseller, setacls, listresellers,
setresellerlimits, suspendreseller, unsuspendreseller, terminatereseller, resellerstats, listacls, myprivs."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.accounts.names import validate_domain
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.whm.access import privileges
from hostpanel.domain.whm.resellers import LIMIT_ARGUMENTS
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Param
from hostpanel.modules.whm.module import ROOT_ONLY, USER, module, reason, user_argument

YES = ("1", "y", "yes")
TERMINATE_VERIFY = "I understand this will irrevocably remove all the accounts owned by the reseller {}"


@module.whm(
    "setupreseller",
    ROOT_ONLY,
    "Make an account a reseller with the initial privileges (`makeowner=1`: it owns itself).",
    writes=True,
    params=(USER, Param("makeowner", "1: the reseller owns its own account.", type="boolean")),
)
def setupreseller(call: Call) -> None:
    user = user_argument(call)
    call.services.resellers.setup(user, (call.args.get("makeowner") or "0") in YES)
    reason(call, f"{user} is now a reseller.")


@module.whm(
    "setresellernameservers",
    ROOT_ONLY,
    "The nameservers in the NS records of the zones a reseller's accounts are given from now on, and that createacct "
    "reports (`nameservers`, comma-separated; empty: the server's).",
    writes=True,
    params=(USER, Param("nameservers", "Host names, comma-separated.")),
)
def setresellernameservers(call: Call) -> None:
    user = user_argument(call)
    names = [name.strip().lower() for name in (call.args.get("nameservers") or "").split(",") if name.strip()]
    for name in names:
        validate_domain(name)
    call.services.resellers.set_limits(user, {"nameservers": ",".join(names)})
    reason(call, f"Nameservers of {user} set.")


@module.whm("unsetupreseller", ROOT_ONLY, "Take an account's reseller status away.", writes=True, params=(USER,))
def unsetupreseller(call: Call) -> None:
    user = user_argument(call)
    call.services.resellers.unsetup(user)
    reason(call, f"{user} is no longer a reseller.")


@module.whm(
    "setacls",
    ROOT_ONLY,
    "Replace a reseller's privileges: each `acl-<name>` given grants that ACL (its value is ignored).",
    writes=True,
    params=(
        Param("reseller", "The reseller (API 1 also `user`).", True),
        Param("acl-list-accts", "Grant `list-accts` (any `acl-<name>`)."),
        Param("acllist", "A saved ACL list (none are kept by this server)."),
    ),
)
def setacls(call: Call) -> dict[str, Any]:
    user = call.args.get("reseller") or call.args.get("user")
    if not user:
        raise InvalidInput("reseller", "No reseller specified.")
    acllist = call.args.get("acllist")
    if acllist:
        raise InvalidInput("acllist", f"The ACL list “{acllist}” does not exist: give each privilege as acl-<name>.")
    names = sorted(name.removeprefix("acl-") for name in call.args.names() if name.startswith("acl-"))
    account = call.services.resellers.set_acls(user.strip(), names)
    reason(call, f"Privileges of {account.username} set.")
    return {"acl": sorted(account.acls or ())}


@module.whm("listresellers", ROOT_ONLY, "The resellers' user names.", returns_list=True)
def listresellers(call: Call) -> dict[str, Any]:
    return {"reseller": [account.username for account in call.services.resellers.all()]}


@module.whm(
    "setresellerlimits",
    ROOT_ONLY,
    "Limit a reseller: how many accounts it may own (enable_account_limit=1, account_limit=N), and its resources.",
    writes=True,
    params=(USER, *(Param(name, "As cPanel's.") for name in LIMIT_ARGUMENTS)),
)
def setresellerlimits(call: Call) -> None:
    user = user_argument(call)
    given = {name: call.args.get(name) or "" for name in LIMIT_ARGUMENTS if call.args.get(name) is not None}
    call.services.resellers.set_limits(user, given)
    reason(call, f"Limits of {user} set.")


@module.whm(
    "suspendreseller",
    ROOT_ONLY,
    "Suspend a reseller and (unless `reseller-only=1`) every account it owns.",
    writes=True,
    params=(USER, Param("reason", "Why."), Param("disallow", "1: only root may unsuspend.", type="boolean")),
)
def suspendreseller(call: Call) -> None:
    user = user_argument(call)
    locked = (call.args.get("disallow") or "0") in YES
    only = (call.args.get("reseller-only") or "0") in YES
    names = call.services.resellers.suspend(user, call.args.get("reason"), locked, only)
    reason(call, "OK", "".join(f"Suspended {name}.\n" for name in names))


@module.whm(
    "unsuspendreseller",
    ROOT_ONLY,
    "Lift the suspension of a reseller and (unless `reseller-only=1`) its accounts.",
    writes=True,
    params=(USER,),
)
def unsuspendreseller(call: Call) -> None:
    user = user_argument(call)
    only = (call.args.get("reseller-only") or "0") in YES
    names = call.services.resellers.unsuspend(user, only)
    reason(call, "OK", "".join(f"Unsuspended {name}.\n" for name in names))


@module.whm(
    "terminatereseller",
    ROOT_ONLY,
    "Remove a reseller and every account it owns. API 0 (`reseller=`) also needs `verify` with cPanel's sentence.",
    writes=True,
    params=(Param("user", "The reseller (API 0: `reseller`).", True), Param("verify", "API 0's confirmation.")),
)
def terminatereseller(call: Call) -> None:
    user = user_argument(call, "user", "reseller")
    if call.args.get("reseller") and call.args.get("verify") != TERMINATE_VERIFY.format(user):
        raise InvalidInput("verify", "The “verify” argument does not match the required confirmation.")
    names = call.services.resellers.terminate(user)
    reason(call, "OK", "".join(f"Removed {name}.\n" for name in names))


@module.whm(
    "resellerstats",
    ROOT_ONLY,
    "A reseller's accounts and their disk use (`user`; API 0: `reseller`).",
    params=(Param("user", "The reseller (API 0: `reseller`).", True),),
)
def resellerstats(call: Call) -> dict[str, Any]:
    user = user_argument(call, "user", "reseller")
    resellers, provisioning = call.services.resellers, call.services.provisioning
    reseller = resellers.get(user)
    accounts = resellers.owned(user)
    rows, used, allocated = [], 0, 0
    domains = {record["user"]: record["domain"] for record in provisioning.records(accounts, False)}
    for account in accounts:
        disk = provisioning.disk_used(account) // (1024 * 1024)
        quota = account.limits.get("QUOTA", "unlimited")
        used += disk
        allocated += int(quota) if quota.isdigit() else 0
        rows.append({"user": account.username, "domain": domains[account.username],
                     "diskused": disk, "diskquota": quota, "bandwidthused": 0, "bandwidthlimit": "unlimited",
                     "suspended": 0 if account.is_active else 1, "package": account.plan, "deleted": 0})  # fmt: skip
    limits = resellers.limits(reseller)
    return {
        "reseller": {
            "user": reseller.username,
            "diskused": used,
            "totalbwused": 0,
            "totaldiskalloc": allocated,
            "totalbwalloc": 0,
            "diskquota": limits.get("diskspace_limit", "unlimited") or "unlimited",
            "bandwidthlimit": limits.get("bandwidth_limit", "unlimited") or "unlimited",
            "bwoverselling": 1 if limits.get("enable_overselling_bandwidth") in YES else 0,
            "diskoverselling": 1 if limits.get("enable_overselling_diskspace") in YES else 0,
            "acct": rows,
            "month": None,
            "year": None,
        }
    }


@module.whm("listacls", ROOT_ONLY, "Saved ACL lists (this server keeps none; privileges are set per reseller).")
def listacls(_call: Call) -> dict[str, Any]:
    return {"acl": []}


@module.whm("myprivs", (), "The caller's privileges: every ACL with 1 when held (root's `all` holds them all).")
def myprivs(call: Call) -> dict[str, Any]:
    held = privileges(call.principal)
    return {"privileges": [{**held.listed(), "all": 1 if held.is_root else 0}]}
