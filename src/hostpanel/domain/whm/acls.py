"""WHM's privileges (ACLs): cPanel's names, what a reseller starts with, and how a token narrows its owner's.

Root holds `all`. A reseller holds the list root gave it. A WHM token holds either everything its owner holds (no
list, or a list containing `all`) or the list it was made with, never more than its owner: for root exactly the
list, for a reseller the list intersected with the reseller's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hostpanel.domain.errors import InvalidInput, PermissionDenied

ALL = "all"

# cPanel's ACL names (Whostmgr::ACLS::Data), with what each allows here.
ACL_DESCRIPTIONS: dict[str, str] = {
    ALL: "Everything, as root (root-only functions included)",
    "list-accts": "List accounts",
    "show-bandwidth": "View bandwidth use",
    "create-acct": "Create accounts",
    "kill-acct": "Terminate accounts",
    "suspend-acct": "Suspend and unsuspend accounts",
    "upgrade-account": "Change an account's package",
    "ssl": "SSL certificates",
    "ssl-buy": "Buy SSL certificates",
    "ssl-gencrt": "Generate SSL certificates",
    "edit-mx": "Edit MX records",
    "passwd": "Change account passwords (which allows a password login)",
    "create-dns": "Add DNS zones",
    "kill-dns": "Remove DNS zones",
    "park-dns": "Park domains",
    "edit-dns": "Edit DNS zones",
    "add-pkg": "Add and delete packages",
    "edit-pkg": "Edit packages",
    "thirdparty": "Third-party services",
    "mailcheck": "Mail troubleshooting",
    "news": "Reseller news",
    "allow-shell": "Accounts with shell access",
    "viewglobalpackages": "See root's packages",
    "assign-root-account-enhancements": "Assign account enhancements",
    "allow-addoncreate": "Packages with addon domains",
    "allow-parkedcreate": "Packages with parked domains",
    "add-pkg-ip": "Packages with a dedicated IP",
    "add-pkg-shell": "Packages with shell access",
    "allow-unlimited-pkgs": "Packages with unlimited limits",
    "allow-emaillimits-pkgs": "Packages with mail sending limits",
    "allow-unlimited-disk-pkgs": "Packages with unlimited disk",
    "allow-unlimited-bw-pkgs": "Packages with unlimited bandwidth",
    "status": "Service status",
    "stats": "Server statistics",
    "restart": "Restart services",
    "resftp": "Manage FTP",
    "edit-account": "Modify accounts (a super privilege)",
    "limit-bandwidth": "Limit bandwidth (a super privilege)",
    "quota": "Change disk quotas (a super privilege)",
    "demo-setup": "Demo mode",
    "rearrange-accts": "Move accounts between partitions",
    "clustering": "DNS clustering (also reads the server's version and host name)",
    "locale-edit": "Edit locales",
    "acct-summary": "Account summaries",
    "basic-whm-functions": "Basic WHM functions",
    "create-user-session": "Sign in to an account's panel without its password (single sign-on)",
    "digest-auth": "Digest authentication",
    "generate-email-config": "Mail client settings",
    "manage-api-tokens": "Manage its own WHM API tokens",
    "manage-oidc": "External authentication",
    "manage-styles": "Styles",
    "mysql-info": "MySQL information",
    "public-contact": "Public contact",
    "ssl-info": "SSL information",
    "basic-system-info": "Basic system information (version, host name)",
    "cors-proxy-get": "CORS proxy",
    "cpanel-integration": "cPanel integration links",
    "list-pkgs": "List packages",
    "manage-dns-records": "Manage DNS records",
    "ns-config": "Nameserver configuration",
    "track-email": "Track email delivery",
    "file-restore": "Restore files",
    "cpanel-api": "Call an account's cPanel API (uapi_cpanel)",
    "connected-applications": "Connected applications",
}
ACL_NAMES = frozenset(ACL_DESCRIPTIONS)

# The "Initial Privileges" a new reseller gets: information and self-service, nothing that changes an account.
INITIAL_PRIVILEGES = frozenset({
    "acct-summary", "basic-system-info", "basic-whm-functions", "connected-applications", "cors-proxy-get",
    "cpanel-api", "cpanel-integration", "create-user-session", "digest-auth", "generate-email-config", "list-pkgs",
    "manage-api-tokens", "manage-dns-records", "manage-oidc", "manage-styles", "mysql-info", "ns-config",
    "public-contact", "ssl-info", "track-email",
})  # fmt: skip


def parse_acls(names: Iterable[str]) -> frozenset[str]:
    """ACL names as given, each checked against cPanel's list."""
    found = set()
    for name in names:
        cleaned = name.strip()
        if cleaned not in ACL_NAMES:
            raise InvalidInput("acl", f"Invalid or unauthorized ACL specified: {name}")
        found.add(cleaned)
    return frozenset(found)


@dataclass(frozen=True)
class Privileges:
    """What a WHM caller may do: a set of ACL names, where `all` means everything."""

    names: frozenset[str]

    @property
    def is_root(self) -> bool:
        return ALL in self.names

    def has(self, acl: str) -> bool:
        return self.is_root or acl in self.names

    def narrowed(self, token_acls: frozenset[str] | None) -> Privileges:
        """What a token with `token_acls` (None: all of its owner's) holds when its owner holds self."""
        if token_acls is None or ALL in token_acls:
            return self
        if self.is_root:
            return Privileges(token_acls)
        return Privileges(self.names & token_acls)

    def covers(self, other: Privileges) -> bool:
        return self.is_root or (not other.is_root and other.names <= self.names)

    def listed(self) -> dict[str, int]:
        """Every ACL name with 1 when held (root's `all` holds them all), as `myprivs` and `api_token_list` show."""
        return {name: 1 if self.has(name) else 0 for name in sorted(ACL_NAMES)}


def require(privileges: Privileges | None, needed: tuple[str, ...]) -> None:
    """The WHM half of the one authorisation rule: a WHM caller holding one of `needed` (none needed: any WHM
    caller). Anyone else (an account's own credentials) is refused."""
    if privileges is None:
        raise PermissionDenied("This function is available only through WHM.", missing="whm")
    if needed and not any(privileges.has(acl) for acl in needed):
        names = " or ".join(f"“{acl}”" for acl in needed)
        raise PermissionDenied(f"Permission denied: this function needs the {names} privilege.", missing=needed[0])
