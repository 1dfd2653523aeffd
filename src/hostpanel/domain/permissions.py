"""Scopes, features and the rule that combines them.

Naming rule: a scope is `<module>:<access>`, where `<module>` is the lowercase UAPI module name and `<access>` is
`read` or `write` (write implies read). A feature is cPanel's per-account switch (`apitokens`, `filemanager`, ...),
turned off by the administrator. What a token may do is its own scopes intersected with its account's features.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hostpanel.domain.errors import InvalidInput, PermissionDenied, RestrictionDenied
from hostpanel.domain.tokens.restrictions import NO_RESTRICTIONS, ReadOnly, Restrictions


class Access(StrEnum):
    """The level a scope grants on its module: read, or write (which implies read)."""

    READ = "read"
    WRITE = "write"


class ScopeModule(StrEnum):
    """Modules a scope can name; keep alphabetised."""

    ACTIVITYLOG = "activitylog"
    BACKUP = "backup"
    DNS = "dns"
    DOMAINS = "domains"
    EMAIL = "email"
    FEATURES = "features"
    FILEMAN = "fileman"
    SSL = "ssl"
    TOKENS = "tokens"
    TWOFACTORAUTH = "twofactorauth"


class Feature(StrEnum):
    """Account features the administrator can switch off (cPanel's names); keep alphabetised."""

    ADDONDOMAINS = "addondomains"
    APITOKENS = "apitokens"
    BACKUP = "backup"
    CHANGEMX = "changemx"
    FILEMANAGER = "filemanager"
    FORWARDERS = "forwarders"
    PARKEDDOMAINS = "parkeddomains"
    POPACCTS = "popaccts"
    SIMPLEZONEEDIT = "simplezoneedit"
    SSLINSTALL = "sslinstall"
    SUBDOMAINS = "subdomains"
    TWOFACTORAUTH = "twofactorauth"
    ZONEEDIT = "zoneedit"


FEATURE_DESCRIPTIONS: dict[Feature, str] = {
    Feature.ADDONDOMAINS: "Addon Domains: add and remove other domains served from folders of the home",
    Feature.APITOKENS: "API Tokens: create, list, rename and revoke API tokens",
    Feature.BACKUP: "Backup: full backups of the account into its home, and restoring files from them",
    Feature.CHANGEMX: "MX Entry: add, change and remove the MX records of the account's DNS zones",
    Feature.FILEMANAGER: "File Manager: list, read, write, upload, move, trash and delete files in the home",
    Feature.FORWARDERS: "Forwarders: add and delete email forwarders",
    Feature.PARKEDDOMAINS: "Aliases: park domains on the account's sites (each with its own DNS zone)",
    Feature.POPACCTS: "Email Accounts: add and delete mailboxes, change their passwords and quotas",
    Feature.SIMPLEZONEEDIT: "Simple Zone Editor: add, change and remove A and CNAME records",
    Feature.SSLINSTALL: "SSL/TLS: install, list and delete the certificates of the account's sites, and AutoSSL",
    Feature.SUBDOMAINS: "Subdomains: add and remove names below the account's domains, each served from a folder",
    Feature.TWOFACTORAUTH: "Two-Factor Authentication: set up, review and remove TOTP sign-in codes",
    Feature.ZONEEDIT: "Zone Editor: add, change and remove A, AAAA, CAA, CNAME, SRV and TXT records (and NS in API 2)",
}

# The feature that gates each scope module's functions (None: always on); a function may name another.
SCOPE_FEATURES: dict[ScopeModule, Feature | None] = {
    ScopeModule.ACTIVITYLOG: None,
    ScopeModule.BACKUP: Feature.BACKUP,
    # Reading a zone needs no feature (as cPanel); which record types a write may touch depends on which of the
    # zone-editor features are on (zoneedit, simplezoneedit, changemx), checked by the DNS service.
    ScopeModule.DNS: None,
    # Listing sites needs none; adding or removing a subdomain, addon or parked domain needs cPanel's feature for it.
    ScopeModule.DOMAINS: None,
    ScopeModule.EMAIL: Feature.POPACCTS,
    ScopeModule.FEATURES: None,
    ScopeModule.FILEMAN: Feature.FILEMANAGER,
    ScopeModule.SSL: Feature.SSLINSTALL,
    ScopeModule.TOKENS: Feature.APITOKENS,
    ScopeModule.TWOFACTORAUTH: Feature.TWOFACTORAUTH,
}

SCOPE_DESCRIPTIONS: dict[ScopeModule, str] = {
    ScopeModule.ACTIVITYLOG: "the account's activity log (read only)",
    ScopeModule.BACKUP: "the account's backups (read: list and progress; write: back up, restore files)",
    ScopeModule.DNS: "the DNS zones of the account's domains (read: records, serial; write: add, change, remove)",
    ScopeModule.DOMAINS: "the account's sites (write: add and remove subdomains, addon and parked domains)",
    ScopeModule.EMAIL: "mailboxes and forwarders (read: list, quotas; write: add, delete, password, quota)",
    ScopeModule.FEATURES: "which features the account has (read only)",
    ScopeModule.FILEMAN: "files in the home directory (read: list, read, download; write: save, upload, move, delete)",
    ScopeModule.SSL: "the certificates of the account's sites (read: list; write: install, delete)",
    ScopeModule.TOKENS: "the account's API tokens (write: create, rename, revoke)",
    ScopeModule.TWOFACTORAUTH: "the account's two-factor authentication (write: set up or remove it)",
}


@dataclass(frozen=True, order=True)
class Scope:
    """The right to read or write one module's data: `<module>:<access>`."""

    module: ScopeModule
    access: Access

    def __str__(self) -> str:
        return f"{self.module}:{self.access}"

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Parse `module:access`; refuses unknown modules and levels with a message naming the valid ones."""
        module, _, access = text.strip().lower().partition(":")
        try:
            return cls(ScopeModule(module), Access(access))
        except ValueError:
            known = ", ".join(f"{m}:read, {m}:write" for m in ScopeModule)
            raise InvalidInput("scope", f"“{text}” is not a valid scope. Valid scopes: {known}.") from None

    def grants(self, needed: Scope) -> bool:
        return self.module == needed.module and (self.access == Access.WRITE or needed.access == Access.READ)


@dataclass(frozen=True)
class Permissions:
    """What a token was granted: everything (now and in future modules), or a set of scopes."""

    full_access: bool
    scopes: frozenset[Scope] = frozenset()

    @classmethod
    def full(cls) -> Permissions:
        return cls(full_access=True)

    @classmethod
    def of(cls, scopes: list[Scope] | frozenset[Scope]) -> Permissions:
        """Scopes with each module at its highest level (write implies read)."""
        best: dict[ScopeModule, Scope] = {}
        for scope in scopes:
            if scope.module not in best or scope.access == Access.WRITE:
                best[scope.module] = scope
        if not best:
            raise InvalidInput("scope", "Specify either a list of scopes or full access.")
        return cls(full_access=False, scopes=frozenset(best.values()))

    def allows(self, needed: Scope) -> bool:
        return self.full_access or any(scope.grants(needed) for scope in self.scopes)

    def covers(self, other: Permissions) -> bool:
        """True when every right in `other` is also in self: a token may only mint tokens it covers."""
        if self.full_access:
            return True
        return not other.full_access and all(self.allows(scope) for scope in other.scopes)

    def scope_names(self) -> list[str]:
        return sorted(str(scope) for scope in self.scopes)

    def feature_names(self) -> list[str]:
        """cPanel's view of a limited token: the features its scopes reach (empty for full access)."""
        features = {SCOPE_FEATURES[scope.module] for scope in self.scopes}
        return sorted(feature.value for feature in features if feature is not None)


def check_access(
    permissions: Permissions | None,
    disabled_features: frozenset[str],
    needed: Scope,
    feature: Feature | None,
    restrictions: Restrictions = NO_RESTRICTIONS,
) -> None:
    """The one authorisation rule: the account's feature must be on, a token must hold the scope, and a read-only
    token (or one with a restriction this server cannot interpret) may not write.

    `permissions` is None for the account's own password session, which holds every scope.
    """
    if feature is not None and feature.value in disabled_features:
        raise PermissionDenied(f"You do not have the feature “{feature}”.", missing=feature.value)
    if permissions is not None and not permissions.allows(needed):
        raise PermissionDenied(f"This API token does not have the “{needed}” scope.", missing=str(needed))
    for unknown in restrictions.unknown:
        raise RestrictionDenied(
            f"This API token carries the restriction “{unknown.key}”, which this server does not know.", unknown.key
        )
    if needed.access == Access.WRITE and restrictions.read_only:
        raise RestrictionDenied(
            f"This API token is read-only (restriction “{ReadOnly.key}”): it cannot use “{needed}” functions.",
            ReadOnly.key,
            detail=str(needed),
        )
