"""The audit vocabulary.

Naming rule: `source:subject:action`, where source is who initiates it (`account` for the account owner or its
tokens, `admin` for the server's administrator on the command line, `whm` for root or a reseller acting through
WHM), subject is what it concerns, action is a verb or outcome.
Keep alphabetised within each source.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """Every action the audit trail records, named `source:subject:action`."""

    ACCOUNT_AUTH_FAILURE = "account:auth:failure"
    ACCOUNT_AUTH_LOCKOUT = "account:auth:lockout"
    ACCOUNT_BACKUP_CREATE = "account:backup:create"
    ACCOUNT_BACKUP_FINISH = "account:backup:finish"
    ACCOUNT_BACKUP_RESTORE = "account:backup:restore"
    ACCOUNT_DNS_EDIT = "account:dns:edit"
    ACCOUNT_DOMAIN_ADD = "account:domain:add"
    ACCOUNT_DOMAIN_REMOVE = "account:domain:remove"
    ACCOUNT_FILE_DELETE = "account:file:delete"
    ACCOUNT_FILE_MKDIR = "account:file:mkdir"
    ACCOUNT_FILE_MOVE = "account:file:move"
    ACCOUNT_FILE_TRASH = "account:file:trash"
    ACCOUNT_FILE_WRITE = "account:file:write"
    ACCOUNT_FORWARDER_CREATE = "account:forwarder:create"
    ACCOUNT_FORWARDER_DELETE = "account:forwarder:delete"
    ACCOUNT_LOGIN_FAILURE = "account:login:failure"
    ACCOUNT_LOGIN_SUCCESS = "account:login:success"
    ACCOUNT_MAILBOX_CREATE = "account:mailbox:create"
    ACCOUNT_MAILBOX_DELETE = "account:mailbox:delete"
    ACCOUNT_MAILBOX_PASSWORD = "account:mailbox:password"
    ACCOUNT_MAILBOX_QUOTA = "account:mailbox:quota"
    ACCOUNT_PASSWORD_CHANGE = "account:password:change"
    ACCOUNT_PERMISSION_DENIED = "account:permission:denied"
    ACCOUNT_RESTRICTION_DENIED = "account:restriction:denied"
    ACCOUNT_SESSION_END = "account:session:end"
    ACCOUNT_SESSION_END_OTHERS = "account:session:end_others"
    ACCOUNT_SSL_AUTOSSL = "account:ssl:autossl"
    ACCOUNT_SSL_DELETE = "account:ssl:delete"
    ACCOUNT_SSL_INSTALL = "account:ssl:install"
    ACCOUNT_SUDO_FAILURE = "account:sudo:failure"
    ACCOUNT_SUDO_SUCCESS = "account:sudo:success"
    ACCOUNT_TOKEN_CREATE = "account:token:create"
    ACCOUNT_TOKEN_EXHAUSTED = "account:token:exhausted"
    ACCOUNT_TOKEN_GRACE_END_LEAK = "account:token:grace_end_leak"
    ACCOUNT_TOKEN_IMPORT = "account:token:import"
    ACCOUNT_TOKEN_NEW_IP = "account:token:new_ip"
    ACCOUNT_TOKEN_RENAME = "account:token:rename"
    ACCOUNT_TOKEN_REVOKE = "account:token:revoke"
    ACCOUNT_TOKEN_REVOKE_LEAK = "account:token:revoke_leak"
    ACCOUNT_TOKEN_ROTATE = "account:token:rotate"
    ACCOUNT_TOKEN_UPDATE = "account:token:update"
    ACCOUNT_TWOFACTOR_DISABLE = "account:twofactor:disable"
    ACCOUNT_TWOFACTOR_ENABLE = "account:twofactor:enable"
    ACCOUNT_TWOFACTOR_RECOVERY_RENEW = "account:twofactor:recovery_renew"
    ACCOUNT_TWOFACTOR_RECOVERY_USE = "account:twofactor:recovery_use"

    ADMIN_ACCOUNT_CREATE = "admin:account:create"
    ADMIN_ACCOUNT_DELETE = "admin:account:delete"
    ADMIN_ACCOUNT_DOMAIN_ADD = "admin:account:domain_add"
    ADMIN_ACCOUNT_FEATURES = "admin:account:features"
    ADMIN_ACCOUNT_PASSWORD = "admin:account:password"
    ADMIN_ACCOUNT_SUSPEND = "admin:account:suspend"
    ADMIN_ACCOUNT_UNSUSPEND = "admin:account:unsuspend"
    ADMIN_BACKUP_CREATE = "admin:backup:create"
    ADMIN_BACKUP_FINISH = "admin:backup:finish"
    ADMIN_BACKUP_RESTORE = "admin:backup:restore"
    ADMIN_DNS_EDIT = "admin:dns:edit"
    ADMIN_SECURITY_DISTRUST = "admin:security:distrust"
    ADMIN_SECURITY_TRUST = "admin:security:trust"
    ADMIN_SECURITY_UNBLOCK = "admin:security:unblock"

    WHM_ACCOUNT_MODIFY = "whm:account:modify"
    WHM_ACCOUNT_PACKAGE = "whm:account:package"
    WHM_PACKAGE_CREATE = "whm:package:create"
    WHM_PACKAGE_DELETE = "whm:package:delete"
    WHM_PACKAGE_EDIT = "whm:package:edit"
    WHM_RESELLER_ACLS = "whm:reseller:acls"
    WHM_RESELLER_CREATE = "whm:reseller:create"
    WHM_RESELLER_LIMITS = "whm:reseller:limits"
    WHM_RESELLER_REMOVE = "whm:reseller:remove"
    WHM_SESSION_CREATE = "whm:session:create"
    WHM_SESSION_USE = "whm:session:use"
    WHM_TOKEN_REVOKE = "whm:token:revoke"


ACTION_DESCRIPTIONS: dict[AuditAction, str] = {
    AuditAction.ACCOUNT_AUTH_FAILURE: "an API request's credentials were refused (the reason kept, never the secret)",
    AuditAction.ACCOUNT_AUTH_LOCKOUT: "repeated failed logins blocked a source address or the account for a while",
    AuditAction.ACCOUNT_BACKUP_CREATE: "a full backup of the account was started",
    AuditAction.ACCOUNT_BACKUP_FINISH: "a backup job ended (outcome success or failure, with the reason)",
    AuditAction.ACCOUNT_BACKUP_RESTORE: "files were restored from a backup",
    AuditAction.ACCOUNT_DOMAIN_ADD: "a subdomain, addon or parked domain was added and served (kind, document root)",
    AuditAction.ACCOUNT_DOMAIN_REMOVE: "a subdomain, addon or parked domain was removed (its kind)",
    AuditAction.ACCOUNT_DNS_EDIT: "records of a DNS zone were added, changed or removed (names and types kept; "
    "the new serial)",
    AuditAction.ACCOUNT_FILE_DELETE: "a file or folder was deleted for good",
    AuditAction.ACCOUNT_FILE_MKDIR: "a folder was created",
    AuditAction.ACCOUNT_FILE_MOVE: "a file or folder was renamed or moved",
    AuditAction.ACCOUNT_FILE_TRASH: "a file or folder was moved to the trash, or the trash was emptied",
    AuditAction.ACCOUNT_FILE_WRITE: "a file was saved or uploaded",
    AuditAction.ACCOUNT_FORWARDER_CREATE: "an email forwarder was added",
    AuditAction.ACCOUNT_FORWARDER_DELETE: "an email forwarder was deleted",
    AuditAction.ACCOUNT_LOGIN_FAILURE: "a web sign-in was refused (wrong password or code; the reason kept)",
    AuditAction.ACCOUNT_LOGIN_SUCCESS: "the account owner signed in to the web interface",
    AuditAction.ACCOUNT_MAILBOX_CREATE: "a mailbox was created",
    AuditAction.ACCOUNT_MAILBOX_DELETE: "a mailbox was deleted",
    AuditAction.ACCOUNT_MAILBOX_PASSWORD: "a mailbox's password was changed",
    AuditAction.ACCOUNT_MAILBOX_QUOTA: "a mailbox's quota was changed",
    AuditAction.ACCOUNT_PASSWORD_CHANGE: "the account owner changed (or failed to change) the password",
    AuditAction.ACCOUNT_PERMISSION_DENIED: "an authenticated call lacked a scope or an account feature",
    AuditAction.ACCOUNT_RESTRICTION_DENIED: "a token restriction (read_only, fileman_paths, ...) refused a call; "
    "the restriction is named",
    AuditAction.ACCOUNT_SESSION_END: "the account owner signed out",
    AuditAction.ACCOUNT_SESSION_END_OTHERS: "the account owner signed out every other web session",
    AuditAction.ACCOUNT_SSL_AUTOSSL: "AutoSSL could not get a certificate for a domain (the ACME server's reason)",
    AuditAction.ACCOUNT_SSL_DELETE: "a site's certificate was deleted (the site no longer answers HTTPS)",
    AuditAction.ACCOUNT_SSL_INSTALL: "a certificate was installed on a site (its names, issuer, expiry; never the key)",
    AuditAction.ACCOUNT_SUDO_FAILURE: "re-entering the password (and code) for a sensitive change failed",
    AuditAction.ACCOUNT_SUDO_SUCCESS: "the account owner re-entered the password (and code) for sensitive changes",
    AuditAction.ACCOUNT_TOKEN_CREATE: "an API token was created",
    AuditAction.ACCOUNT_TOKEN_EXHAUSTED: "a use-limited API token made its last allowed request",
    AuditAction.ACCOUNT_TOKEN_GRACE_END_LEAK: "a rotated-out secret found leaked was refused at once (grace ended)",
    AuditAction.ACCOUNT_TOKEN_IMPORT: "an API token was imported from a cPanel token store",
    AuditAction.ACCOUNT_TOKEN_NEW_IP: "an API token was used from an address it had not been used from before",
    AuditAction.ACCOUNT_TOKEN_RENAME: "an API token was renamed",
    AuditAction.ACCOUNT_TOKEN_REVOKE: "an API token was revoked",
    AuditAction.ACCOUNT_TOKEN_REVOKE_LEAK: "an API token found leaked (by a scan or a public report) was revoked",
    AuditAction.ACCOUNT_TOKEN_ROTATE: "an API token was given a new secret; the old one works for the grace period",
    AuditAction.ACCOUNT_TOKEN_UPDATE: "a WHM API token's expiry, address allowlist or ACLs were changed",
    AuditAction.ACCOUNT_TWOFACTOR_DISABLE: "two-factor authentication was removed",
    AuditAction.ACCOUNT_TWOFACTOR_ENABLE: "two-factor authentication was set up (or replaced)",
    AuditAction.ACCOUNT_TWOFACTOR_RECOVERY_RENEW: "a new set of two-factor recovery codes replaced the old one",
    AuditAction.ACCOUNT_TWOFACTOR_RECOVERY_USE: "a two-factor recovery code was used (each works once)",
    AuditAction.ADMIN_ACCOUNT_CREATE: "the administrator created the account",
    AuditAction.ADMIN_ACCOUNT_DELETE: "the administrator deleted the account",
    AuditAction.ADMIN_ACCOUNT_DOMAIN_ADD: "the administrator added a domain to the account",
    AuditAction.ADMIN_ACCOUNT_FEATURES: "the administrator switched account features on or off",
    AuditAction.ADMIN_ACCOUNT_PASSWORD: "the administrator set the account's password",
    AuditAction.ADMIN_ACCOUNT_SUSPEND: "the administrator suspended the account",
    AuditAction.ADMIN_ACCOUNT_UNSUSPEND: "the administrator lifted the account's suspension",
    AuditAction.ADMIN_BACKUP_CREATE: "the administrator started a full backup of the account",
    AuditAction.ADMIN_BACKUP_FINISH: "a backup job the administrator started ended",
    AuditAction.ADMIN_BACKUP_RESTORE: "the administrator restored files from a backup",
    AuditAction.ADMIN_DNS_EDIT: "the administrator added, changed, removed or imported records of a DNS zone",
    AuditAction.ADMIN_SECURITY_DISTRUST: "the administrator removed a network from the trusted networks",
    AuditAction.ADMIN_SECURITY_TRUST: "the administrator trusted a network: its logins are never counted or blocked",
    AuditAction.ADMIN_SECURITY_UNBLOCK: "the administrator lifted a block on an address or an account",
    AuditAction.WHM_ACCOUNT_MODIFY: "root or the account's reseller changed the account's settings or limits",
    AuditAction.WHM_ACCOUNT_PACKAGE: "root or the account's reseller moved the account to another package",
    AuditAction.WHM_PACKAGE_CREATE: "a package was created",
    AuditAction.WHM_PACKAGE_DELETE: "a package was deleted",
    AuditAction.WHM_PACKAGE_EDIT: "a package was changed",
    AuditAction.WHM_RESELLER_ACLS: "root changed a reseller's privileges (ACLs)",
    AuditAction.WHM_RESELLER_CREATE: "root made an account a reseller",
    AuditAction.WHM_RESELLER_LIMITS: "root changed a reseller's limits",
    AuditAction.WHM_RESELLER_REMOVE: "root took an account's reseller privileges away",
    AuditAction.WHM_SESSION_CREATE: "root or a reseller made a single sign-on link into an account's interface",
    AuditAction.WHM_SESSION_USE: "a single sign-on link signed a browser in (once; later uses are refused)",
    AuditAction.WHM_TOKEN_REVOKE: "root or a reseller revoked an account's API token (token oversight)",
}


class Outcome(StrEnum):
    """How an audited action ended: it succeeded, it failed, or it was refused (a permission, restriction or block)."""

    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"
