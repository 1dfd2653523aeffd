"""Packages as root and resellers see and use them: a reseller's are named `<reseller>_<name>` and are its own; root's
are global (a reseller with `viewglobalpackages` may see and use them); `default` is built in."""

from __future__ import annotations

from collections.abc import Callable

from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.whm import access
from hostpanel.domain.whm.packages import DEFAULT, DEFAULTS, Package, builtin_default, settings_from, validate_name

WANTS = ("creatable", "editable", "viewable", "all")


class PackageStore:
    """Listing, adding, editing and deleting packages for one caller, with cPanel's naming and ownership rules."""

    def __init__(self, uow: UnitOfWork, clock: Clock, audit: AuditLog) -> None:
        self._uow = uow
        self._clock = clock
        self._audit = audit

    def _all(self) -> list[Package]:
        stored = self._uow.packages.all()
        return stored if any(p.name == DEFAULT for p in stored) else [builtin_default(), *stored]

    def get(self, name: str) -> Package | None:
        stored = self._uow.packages.get(name)
        return stored or (builtin_default() if name == DEFAULT else None)

    def listing(self, principal: Principal, want: str = "creatable") -> list[Package]:
        if want not in WANTS:
            raise InvalidInput("want", f"“{want}” is not one of: {', '.join(WANTS)}.")
        held = access.privileges(principal)
        if held.is_root:
            return self._all()
        mine = [package for package in self._all() if package.owner == principal.account.username]
        if want == "editable" or not held.has("viewglobalpackages"):
            return mine
        return [package for package in self._all() if package.owner in ("root", principal.account.username)]

    def usable(self, name: str, held_by: Principal) -> Package:
        """The package `name` as the caller may give it to an account: a reseller's own (the prefix may be left
        out), root's with `viewglobalpackages`, or `default`."""
        held = access.privileges(held_by)
        owner = held_by.account.username
        candidates = [name] if held.is_root else [f"{owner}_{name}", name]
        for candidate in candidates:
            package = self.get(candidate)
            if package is None:
                continue
            if held.is_root or package.owner == owner or candidate == DEFAULT:
                return package
            if held.has("viewglobalpackages") and package.owner == "root":
                return package
        if held.is_root:
            raise NotFound(f"The package “{name}” does not exist.")
        raise PermissionDenied(f"You do not have access to a package named “{name}”.", missing=f"package:{name}")

    def _own_name(self, principal: Principal, name: str) -> str:
        """The stored name: a reseller's packages carry its prefix, added when missing."""
        validate_name(name)
        if access.privileges(principal).is_root:
            return name
        prefix = f"{principal.account.username}_"
        return name if name.startswith(prefix) else prefix + name

    def _editable(self, principal: Principal, name: str) -> Package:
        stored_name = self._own_name(principal, name) if name else name
        package = self._uow.packages.get(stored_name) if stored_name else None
        if package is None:
            if access.privileges(principal).is_root:
                raise NotFound(f"The package “{name}” does not exist.")
            raise PermissionDenied(f"You do not have access to a package named “{name}”.", missing=f"package:{name}")
        return package

    def add(self, principal: Principal, name: str | None, arguments: Callable[[str], str | None]) -> Package:
        if not name:
            raise InvalidInput("name", "No package supplied: “pkgname” or “name” is a required argument.")
        full = self._own_name(principal, name)
        if self.get(full) is not None:
            raise Conflict(
                f"The package “{full}” already exists. If you wish to make changes, please edit the package."
            )
        package = Package(full, principal.account.username, settings_from(arguments, DEFAULTS), int(self._clock.now()))
        self._uow.packages.add(package)
        self._audit.record_by(principal, AuditAction.WHM_PACKAGE_CREATE, target=full, details=_shown(package))
        return package

    def edit(self, principal: Principal, name: str | None, arguments: Callable[[str], str | None]) -> Package:
        if not name:
            raise InvalidInput("name", "No package supplied: “pkgname” or “name” is a required argument.")
        package = self._editable(principal, name)
        settings = settings_from(arguments, package.settings)
        self._uow.packages.update(package.name, settings)
        edited = Package(package.name, package.owner, settings, package.created_at)
        self._audit.record_by(principal, AuditAction.WHM_PACKAGE_EDIT, target=package.name, details=_shown(edited))
        return edited

    def delete(self, principal: Principal, name: str | None) -> None:
        if not name:
            raise InvalidInput("pkgname", "No package supplied: “pkgname” or “name” is a required argument.")
        package = self._editable(principal, name)
        users = self._uow.packages.users(package.name)
        if users:
            raise InvalidInput("pkgname", f"The package “{package.name}” is in use by {users} account(s).")
        self._uow.packages.delete(package.name)
        self._audit.record_by(principal, AuditAction.WHM_PACKAGE_DELETE, target=package.name)


def _shown(package: Package) -> dict[str, str | int | float | bool | list[str] | None]:
    return {"settings": sorted(f"{key}={value}" for key, value in package.settings.items())}
