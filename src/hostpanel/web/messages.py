"""The one place where domain errors become messages on a form, and where redirect notices are worded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hostpanel.domain.errors import (
    AccountSuspended,
    AuthenticationFailed,
    Conflict,
    HostpanelError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)


@dataclass(frozen=True)
class FormMessage:
    """`field` names the form control the message belongs beside; None puts it at the top of the form."""

    text: str
    field: str | None = None


def form_message(
    error: HostpanelError,
    *,
    fields: Mapping[str, str | None] | None = None,
    refused: str = "The password or code is incorrect.",
    conflict_field: str | None = None,
) -> FormMessage:
    """`fields` renames domain field names to the form's (None: a field the form does not show, so the message goes
    atop the form); `refused` is the one text every refused credential
    gets (AuthenticationFailed carries a reason for the audit trail, which the person must not see)."""
    renames = fields or {}
    if isinstance(error, AuthenticationFailed):
        return FormMessage(refused)
    if isinstance(error, InvalidInput):
        return FormMessage(error.message, renames.get(error.field, error.field))
    if isinstance(error, Conflict):
        return FormMessage(error.message, conflict_field)
    if isinstance(error, NotFound | PermissionDenied | AccountSuspended):
        return FormMessage(error.message)
    return FormMessage(error.message)


# Notices shown after a redirect are chosen by key, so a link cannot put words of its own on the page.
NOTICES = {
    "signed-out": "You have signed out.",
    "session-ended": "Your session has ended. Sign in again to continue.",
    "token-renamed": "The token was renamed.",
    "token-revoked": "The token was revoked. It no longer works.",
    "expired-deleted": "The expired tokens were deleted.",
    "twofactor-disabled": "Two-factor authentication is off.",
    "password-changed": "Your password was changed. Every other session was signed out.",
    "others-signed-out": "Every other session was signed out.",
    "confirmed": "Identity confirmed for the next 10 minutes.",
    "folder-created": "The folder was created.",
    "moved": "The file or folder was renamed or moved.",
    "trashed": "Moved to the trash. It is deleted for good only when you empty the trash.",
    "deleted": "Deleted for good.",
    "trash-emptied": "The trash is empty.",
    "file-saved": "The file was saved.",
    "uploaded": "The files were uploaded.",
    "mailbox-created": "The email account was created.",
    "mailbox-password": "The email account's password was changed. The old one no longer works.",
    "mailbox-quota": "The email account's quota was changed.",
    "mailbox-deleted": "The email account and its mail were deleted.",
    "forwarder-added": "The forwarder was added.",
    "forwarder-deleted": "The forwarder was deleted.",
    "certificate-installed": "The certificate was installed. The site presents it over HTTPS now.",
    "certificate-deleted": "The certificate was deleted. The site no longer answers over HTTPS.",
    "backup-started": "The backup has started. It runs on the server: you may leave this page.",
    "subdomain-added": "The subdomain was added. It is served now, and its DNS records too.",
    "domain-added": "The domain was added with its DNS zone. It is served now.",
    "domain-removed": "The domain was removed. It is no longer served; its files are still in your home.",
    "record-added": "The record was added. The nameserver serves it now.",
    "record-changed": "The record was changed. The nameserver serves the change now.",
    "record-deleted": "The record was deleted. The nameserver no longer serves it.",
    "account-created": "The account was created.",
    "account-suspended": "The account was suspended: its sign-ins, tokens and mailboxes stopped at once.",
    "account-unsuspended": "The account's suspension was lifted.",
    "account-plan": "The account is on its new package.",
    "account-removed": "The account was terminated.",
    "package-added": "The package was added.",
    "package-deleted": "The package was deleted.",
    "reseller-added": "The account is now a reseller, with the initial privileges.",
    "reseller-removed": "The account is no longer a reseller.",
    "reseller-acls": "The reseller's privileges were saved.",
    "tokens-revoked": "Revoked. The owner was told by mail.",
}
