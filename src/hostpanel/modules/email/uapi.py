"""UAPI `Email`: cPanel's mailbox and forwarder functions, parameters and fields.

Mailboxes are real: a Maildir under `~/mail/<domain>/<user>` and a line in the Dovecot passwd-file; forwarders are
lines of a virtual alias map. Feature gates as cPanel's: `popaccts` for changing mailboxes, `forwarders` for
changing forwarders; listing needs only the `email:read` scope.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.mail.model import Forwarder, Mailbox, parse_quota
from hostpanel.domain.mail.service import MailService, address_filter
from hostpanel.domain.permissions import Access, Feature, ScopeModule
from hostpanel.domain.sizes import human_size
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Module, Param

module = Module("Email", ScopeModule.EMAIL, "Mailboxes and forwarders on the account's domains.")

MB = 1024 * 1024
EMAIL = Param("email", "The mailbox: a local part (with `domain`) or a whole address.", True)
DOMAIN = Param("domain", "One of the account's domains; default: its main (first) domain.")
REGEX = Param("regex", "Only addresses matching this regular expression (at most 100 characters).")
QUOTA = Param("quota", "Megabytes; 0 or `unlimited` for no limit (the default).")
PASSWORD = Param("password", "At least 10 characters, hard to guess (the same strength rule as accounts).", True)


def _percent(used: int, quota_mb: int) -> float:
    return round(100 * used / (quota_mb * MB), 2) if quota_mb else 0.0


def _with_disk(mail: MailService, mailbox: Mailbox, with_disk: bool) -> dict[str, Any]:
    used, mtime = mail.disk_usage(mailbox) if with_disk else (0, 0.0)
    percent = _percent(used, mailbox.quota_mb)
    quota_text = str(mailbox.quota_mb) if mailbox.quota_mb else "unlimited"
    return {
        "email": mailbox.address,
        "login": mailbox.address,
        "user": mailbox.local_part,
        "domain": mailbox.domain,
        "diskquota": quota_text,
        "_diskquota": mailbox.quota_mb * MB,
        "txtdiskquota": quota_text,
        "humandiskquota": human_size(mailbox.quota_mb * MB) if mailbox.quota_mb else "unlimited",
        "diskused": round(used / MB, 2),
        "_diskused": used,
        "humandiskused": human_size(used),
        "diskusedpercent": int(percent),
        "diskusedpercent20": int(percent) // 20 * 20,
        "diskusedpercent_float": percent,
        "mtime": int(mtime),
        "suspended_incoming": 0,
        "suspended_login": 0,
        "suspended_outgoing": 0,
        "hold_outgoing": 0,
        "has_suspended": 0,
    }


@module.function(
    "add_pop",
    Access.WRITE,
    "Create a mailbox: a Maildir and a Dovecot login. Returns cPanel's `user+domain` string.",
    params=(EMAIL, PASSWORD, DOMAIN, QUOTA),
)
def add_pop(call: Call) -> str:
    args = call.args
    mailbox = call.services.mail.add_mailbox(
        args.require("email"), args.get("domain"), args.require("password"), parse_quota(args.get("quota"))
    )
    return f"{mailbox.local_part}+{mailbox.domain}"


@module.function(
    "list_pops",
    Access.READ,
    "The mailboxes, by address.",
    returns_list=True,
    feature=None,
    params=(REGEX, DOMAIN),
)
def list_pops(call: Call) -> list[dict[str, Any]]:
    matches = address_filter(call.args.get("regex"))
    return [
        {"email": m.address, "login": m.address, "suspended_incoming": 0, "suspended_login": 0}
        for m in call.services.mail.mailboxes(call.args.get("domain"))
        if matches(m.address)
    ]


@module.function(
    "list_pops_with_disk",
    Access.READ,
    "The mailboxes with their quota and the space their mail takes.",
    returns_list=True,
    feature=None,
    params=(
        DOMAIN,
        Param("email", "Only this mailbox (a local part or a whole address)."),
        REGEX,
        Param("no_disk", "1 to skip measuring the Maildirs (faster; usage shows 0).", type="boolean"),
    ),
)
def list_pops_with_disk(call: Call) -> list[dict[str, Any]]:
    mail, args = call.services.mail, call.args
    if email := args.get("email"):
        mailboxes = [mail.mailbox(email, args.get("domain"))]
    else:
        mailboxes = mail.mailboxes(args.get("domain"))
    matches = address_filter(args.get("regex"))
    measure = not args.flag("no_disk")
    return [_with_disk(mail, m, measure) for m in mailboxes if matches(m.address)]


@module.function("count_pops", Access.READ, "How many mailboxes there are.", feature=None, params=(DOMAIN,))
def count_pops(call: Call) -> int:
    return len(call.services.mail.mailboxes(call.args.get("domain")))


@module.function(
    "passwd_pop",
    Access.WRITE,
    "Change a mailbox's password; the old one stops working at once.",
    params=(EMAIL, PASSWORD, DOMAIN),
)
def passwd_pop(call: Call) -> None:
    args = call.args
    call.services.mail.set_password(args.require("email"), args.get("domain"), args.require("password"))


@module.function(
    "edit_pop_quota",
    Access.WRITE,
    "Change a mailbox's quota.",
    params=(EMAIL, DOMAIN, Param("quota", QUOTA.description, True)),
)
def edit_pop_quota(call: Call) -> None:
    args = call.args
    call.services.mail.set_quota(args.require("email"), args.get("domain"), parse_quota(args.require("quota")))


@module.function(
    "get_pop_quota",
    Access.READ,
    "A mailbox's quota in megabytes (or bytes with as_bytes=1); 0 means unlimited.",
    feature=None,
    params=(EMAIL, DOMAIN, Param("as_bytes", "1 for bytes instead of megabytes.", type="boolean")),
)
def get_pop_quota(call: Call) -> int:
    mailbox = call.services.mail.mailbox(call.args.require("email"), call.args.get("domain"))
    return mailbox.quota_mb * MB if call.args.flag("as_bytes") else mailbox.quota_mb


@module.function(
    "delete_pop",
    Access.WRITE,
    "Delete a mailbox: its login at once, its Maildir and mail right after.",
    params=(EMAIL, DOMAIN),
)
def delete_pop(call: Call) -> None:
    call.services.mail.delete_mailbox(call.args.require("email"), call.args.get("domain"))


def _forwarder_record(forwarder: Forwarder) -> dict[str, Any]:
    """cPanel's `list_forwarders` record: `dest` is the forwarded address, `forward` where its mail goes."""
    return {
        "dest": forwarder.address,
        "forward": forwarder.destination,
        "html_dest": html.escape(forwarder.address),
        "html_forward": html.escape(forwarder.destination),
        "uri_dest": quote(forwarder.address, safe=""),
        "uri_forward": quote(forwarder.destination, safe=""),
    }


@module.function(
    "add_forwarder",
    Access.WRITE,
    "Forward an address's mail to other addresses (fwdopt=fwd; fwdemail may list several, comma-separated).",
    feature=Feature.FORWARDERS,
    params=(
        Param("domain", "The domain of the address to forward.", True),
        Param("email", "The address to forward: a local part or a whole address.", True),
        Param("fwdopt", "`fwd` (the only kind this server writes).", True),
        Param("fwdemail", "Where to send the mail: one address, or several separated by commas.", True),
    ),
)
def add_forwarder(call: Call) -> list[dict[str, Any]]:
    args = call.args
    option = args.require("fwdopt")
    if option != "fwd":
        raise InvalidInput("fwdopt", f"“{option}” forwarders are not supported: use fwdopt=fwd with fwdemail.")
    destinations = [item.strip() for item in args.require("fwdemail").split(",") if item.strip()]
    if not destinations:
        raise InvalidInput("fwdemail", "The “fwdemail” argument cannot be empty.")
    added = call.services.mail.add_forwarders(args.require("email"), args.require("domain"), destinations)
    return [{"domain": f.domain, "email": f.address, "forward": f.destination} for f in added]


@module.function(
    "list_forwarders",
    Access.READ,
    "The forwarders, by address.",
    returns_list=True,
    feature=None,
    params=(Param("domain", "Only this domain's forwarders; default: all the caller may see."), REGEX),
)
def list_forwarders(call: Call) -> list[dict[str, Any]]:
    matches = address_filter(call.args.get("regex"))
    return [_forwarder_record(f) for f in call.services.mail.forwarders(call.args.get("domain")) if matches(f.address)]


@module.function(
    "delete_forwarder",
    Access.WRITE,
    "Delete one forwarder (one address to one destination).",
    feature=Feature.FORWARDERS,
    params=(
        Param("address", "The forwarded address (a whole address).", True),
        Param("forwarder", "The destination to stop forwarding to.", True),
    ),
)
def delete_forwarder(call: Call) -> None:
    call.services.mail.delete_forwarder(call.args.require("address"), call.args.require("forwarder"))
