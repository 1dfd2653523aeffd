"""WHM's package functions: listpkgs, addpkg, editpkg, killpkg, getpkginfo."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.errors import InvalidInput, NotFound
from hostpanel.domain.whm.packages import Package, described, listed
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Param
from hostpanel.modules.whm.module import module, reason

SETTINGS = (
    Param("quota", "Disk quota in MB, or `unlimited`."),
    Param("bwlimit", "Monthly bandwidth in MB, or `unlimited`."),
    Param("maxpop", "Mailboxes (enforced by Email::add_pop), or `unlimited`."),
    Param("maxftp", "FTP accounts."),
    Param("maxsql", "Databases."),
    Param("maxsub", "Subdomains."),
    Param("maxpark", "Parked domains."),
    Param("maxaddon", "Addon domains."),
    Param("maxlst", "Mailing lists."),
    Param("featurelist", "The feature list: `default` (every feature) or `disabled` (none)."),
    Param("hasshell", "1 for shell access.", type="boolean"),
    Param("cgi", "1 for CGI.", type="boolean"),
    Param("ip", "1 for a dedicated address.", type="boolean"),
    Param("cpmod", "The theme."),
    Param("language", "The locale."),
    Param("max_email_per_hour", "Messages an hour."),
    Param("max_emailacct_quota", "Largest mailbox quota, in MB."),
)


@module.whm(
    "listpkgs",
    ("list-pkgs",),
    "The packages the caller may use (`want`: creatable, editable, viewable or all).",
    returns_list=True,
    params=(Param("want", "creatable (default), editable, viewable or all."),),
)
def listpkgs(call: Call) -> dict[str, Any]:
    want = call.args.get("want") or "creatable"
    return {"pkg": [listed(package) for package in call.services.packages.listing(call.principal, want)]}


def _name(call: Call) -> str | None:
    return call.args.get("name") or call.args.get("pkgname") or call.args.get("pkg")


@module.whm(
    "addpkg",
    ("add-pkg",),
    "Add a package (a reseller's is stored as `<reseller>_<name>`).",
    writes=True,
    params=(Param("name", "The package's name (or `pkgname`).", True), *SETTINGS),
)
def addpkg(call: Call) -> dict[str, Any]:
    return _saved(call, call.services.packages.add(call.principal, _name(call), call.args.get), "Created")


def _saved(call: Call, package: Package, done: str) -> dict[str, Any]:
    reason(call, f"{done} the package {package.name}.")
    return {"pkg": package.name}


@module.whm(
    "editpkg",
    ("edit-pkg",),
    "Change a package; accounts on it keep their limits until their package is applied again (changepackage).",
    writes=True,
    params=(Param("name", "The package's name (or `pkgname`).", True), *SETTINGS),
)
def editpkg(call: Call) -> dict[str, Any]:
    return _saved(call, call.services.packages.edit(call.principal, _name(call), call.args.get), "Modified")


@module.whm(
    "killpkg",
    ("add-pkg",),
    "Delete a package no account is on (`pkgname`; API 0: `pkg`).",
    writes=True,
    params=(Param("pkgname", "The package (API 0: `pkg`).", True),),
)
def killpkg(call: Call) -> None:
    name = call.args.get("pkgname") or call.args.get("pkg") or call.args.get("name")
    call.services.packages.delete(call.principal, name)
    reason(call, f"Deleted the package {name}.")


@module.whm(
    "getpkginfo",
    ("list-pkgs",),
    "One package's settings (`unlimited` as null; CGI, HASSHELL, IP as 1/0).",
    params=(Param("pkg", "The package.", True),),
)
def getpkginfo(call: Call) -> dict[str, Any]:
    name = call.args.get("pkg") or call.args.get("name")
    if not name:
        raise InvalidInput("pkg", "The “pkg” parameter is required.")
    packages = call.services.packages
    found = [package for package in packages.listing(call.principal, "all") if package.name == name]
    if not found:
        raise NotFound(f"The package “{name}” does not exist.")
    return {"pkg": described(found[0])}
