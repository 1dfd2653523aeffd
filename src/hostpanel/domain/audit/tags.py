"""The audit vocabulary.

Naming rule: `source:subject:action`, where source is who initiates it (`account` for the account owner or its
tokens, `admin` for the server's administrator), subject is what it concerns, action is a verb or outcome.
Keep alphabetised within each source.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    ACCOUNT_AUTH_FAILURE = "account:auth:failure"
    ACCOUNT_LOGIN_FAILURE = "account:login:failure"
    ACCOUNT_LOGIN_SUCCESS = "account:login:success"
    ACCOUNT_PASSWORD_CHANGE = "account:password:change"
    ACCOUNT_AUTH_LOCKOUT = "account:auth:lockout"
    ACCOUNT_PERMISSION_DENIED = "account:permission:denied"
    ACCOUNT_SESSION_END = "account:session:end"
    ACCOUNT_SESSION_END_OTHERS = "account:session:end_others"
    ACCOUNT_SUDO_FAILURE = "account:sudo:failure"
    ACCOUNT_SUDO_SUCCESS = "account:sudo:success"
    ACCOUNT_TOKEN_CREATE = "account:token:create"
    ACCOUNT_TOKEN_NEW_IP = "account:token:new_ip"
    ACCOUNT_TOKEN_RENAME = "account:token:rename"
    ACCOUNT_TOKEN_REVOKE = "account:token:revoke"
    ACCOUNT_TWOFACTOR_DISABLE = "account:twofactor:disable"
    ACCOUNT_TWOFACTOR_ENABLE = "account:twofactor:enable"
    ACCOUNT_TWOFACTOR_RECOVERY_RENEW = "account:twofactor:recovery_renew"
    ACCOUNT_TWOFACTOR_RECOVERY_USE = "account:twofactor:recovery_use"
    ACCOUNT_TOKEN_REVOKE_LEAK = "account:token:revoke_leak"

    ADMIN_ACCOUNT_CREATE = "admin:account:create"
    ADMIN_ACCOUNT_DELETE = "admin:account:delete"
    ADMIN_ACCOUNT_DOMAIN_ADD = "admin:account:domain_add"
    ADMIN_ACCOUNT_FEATURES = "admin:account:features"
    ADMIN_ACCOUNT_PASSWORD = "admin:account:password"
    ADMIN_ACCOUNT_SUSPEND = "admin:account:suspend"
    ADMIN_ACCOUNT_UNSUSPEND = "admin:account:unsuspend"
    ADMIN_SECURITY_DISTRUST = "admin:security:distrust"
    ADMIN_SECURITY_TRUST = "admin:security:trust"
    ADMIN_SECURITY_UNBLOCK = "admin:security:unblock"


ACTION_DESCRIPTIONS: dict[AuditAction, str] = {
    AuditAction.ACCOUNT_AUTH_FAILURE: "an API request's credentials were refused (the reason kept, never the secret)",
    AuditAction.ACCOUNT_LOGIN_FAILURE: "a web sign-in was refused (wrong password or code; the reason kept)",
    AuditAction.ACCOUNT_LOGIN_SUCCESS: "the account owner signed in to the web interface",
    AuditAction.ACCOUNT_PASSWORD_CHANGE: "the account owner changed (or failed to change) the password",
    AuditAction.ACCOUNT_AUTH_LOCKOUT: "repeated failed logins blocked a source address or the account for a while",
    AuditAction.ACCOUNT_PERMISSION_DENIED: "an authenticated call lacked a scope or an account feature",
    AuditAction.ACCOUNT_SESSION_END: "the account owner signed out",
    AuditAction.ACCOUNT_SESSION_END_OTHERS: "the account owner signed out every other web session",
    AuditAction.ACCOUNT_SUDO_FAILURE: "re-entering the password (and code) for a sensitive change failed",
    AuditAction.ACCOUNT_SUDO_SUCCESS: "the account owner re-entered the password (and code) for sensitive changes",
    AuditAction.ACCOUNT_TOKEN_CREATE: "an API token was created",
    AuditAction.ACCOUNT_TOKEN_NEW_IP: "an API token was used from an address it had not been used from before",
    AuditAction.ACCOUNT_TOKEN_RENAME: "an API token was renamed",
    AuditAction.ACCOUNT_TOKEN_REVOKE: "an API token was revoked",
    AuditAction.ACCOUNT_TWOFACTOR_DISABLE: "two-factor authentication was removed",
    AuditAction.ACCOUNT_TWOFACTOR_ENABLE: "two-factor authentication was set up (or replaced)",
    AuditAction.ACCOUNT_TWOFACTOR_RECOVERY_RENEW: "a new set of two-factor recovery codes replaced the old one",
    AuditAction.ACCOUNT_TWOFACTOR_RECOVERY_USE: "a two-factor recovery code was used (each works once)",
    AuditAction.ACCOUNT_TOKEN_REVOKE_LEAK: "an API token found leaked (by a scan or a public report) was revoked",
    AuditAction.ADMIN_ACCOUNT_CREATE: "the administrator created the account",
    AuditAction.ADMIN_ACCOUNT_DELETE: "the administrator deleted the account",
    AuditAction.ADMIN_ACCOUNT_DOMAIN_ADD: "the administrator added a domain to the account",
    AuditAction.ADMIN_ACCOUNT_FEATURES: "the administrator switched account features on or off",
    AuditAction.ADMIN_ACCOUNT_PASSWORD: "the administrator set the account's password",
    AuditAction.ADMIN_ACCOUNT_SUSPEND: "the administrator suspended the account",
    AuditAction.ADMIN_ACCOUNT_UNSUSPEND: "the administrator lifted the account's suspension",
    AuditAction.ADMIN_SECURITY_DISTRUST: "the administrator removed a network from the trusted networks",
    AuditAction.ADMIN_SECURITY_TRUST: "the administrator trusted a network: its logins are never counted or blocked",
    AuditAction.ADMIN_SECURITY_UNBLOCK: "the administrator lifted a block on an address or an account",
}


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"
