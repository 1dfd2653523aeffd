"""Email → Email Accounts (mailboxes per domain with usage and quota: add, change password or quota, delete) and
Forwarders (add, delete), through the MailService the UAPI uses.

Values a form shows again are read before the service writes: after a refused insert, PostgreSQL runs no further
statement in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from hostpanel.domain.errors import HostpanelError, InvalidInput
from hostpanel.domain.mail.model import Mailbox, parse_quota
from hostpanel.domain.mail.service import MailService
from hostpanel.domain.sizes import human_size
from hostpanel.web.page import PageContext

MB = 1024 * 1024
MAILBOX_FIELDS: dict[str, str | None] = {"email": "local_part"}
FORWARDER_FIELDS: dict[str, str | None] = {"email": "local_part", "fwdemail": "destination"}
MISMATCH = "The two passwords are not the same."


@dataclass(frozen=True)
class MailboxRow:
    """One row of the mailboxes table: the mailbox, with its disk usage read only when shown."""

    mailbox: Mailbox
    mail: MailService

    @cached_property
    def used(self) -> int:
        """Bytes in the Maildir: read only by a page that shows them (a delete must not walk the mailbox first)."""
        return self.mail.disk_usage(self.mailbox)[0]

    @property
    def address(self) -> str:
        return self.mailbox.address

    @property
    def query(self) -> str:
        return urlencode({"address": self.address})

    @property
    def quota_text(self) -> str:
        return human_size(self.mailbox.quota_mb * MB) if self.mailbox.quota_mb else "Unlimited"

    @property
    def used_text(self) -> str:
        return human_size(self.used)

    @property
    def percent(self) -> int | None:
        """Of the quota used; None when unlimited."""
        if not self.mailbox.quota_mb:
            return None
        return min(100, round(100 * self.used / (self.mailbox.quota_mb * MB)))


def _mail(ctx: PageContext) -> MailService:
    return ctx.services.mail


def _domains(ctx: PageContext) -> list[str]:
    return ctx.services.mail.domains()


def _form(ctx: PageContext, *names: str) -> dict[str, str]:
    return {name: str(ctx.form.get(name, "")) for name in names}


# Email Accounts ------------------------------------------------------------------------------------------------


def accounts_page(ctx: PageContext) -> Response:
    mail = _mail(ctx)
    rows = [MailboxRow(mailbox, mail) for mailbox in mail.mailboxes()]
    domains = _domains(ctx)
    domains += sorted({row.mailbox.domain for row in rows} - set(domains))  # a domain since taken off the account
    groups = [(domain, [row for row in rows if row.mailbox.domain == domain]) for domain in domains]
    return ctx.render("mail_accounts.html", groups=groups)


def _address_form(ctx: PageContext, form: dict[str, str], other: str) -> dict[str, Any]:
    """The values of a form for an address on one of the account's domains, and its field `other`."""
    domains = _domains(ctx)
    return {
        "domains": domains,
        "form": {
            "local_part": form.get("local_part", ""),
            "domain": form.get("domain") or (domains[0] if domains else ""),
            other: form.get(other, ""),
        },
    }


def new_form(ctx: PageContext) -> Response:
    return ctx.render("mail_new.html", **_address_form(ctx, {}, "quota"))


def create(ctx: PageContext) -> Response:
    form = _form(ctx, "local_part", "domain", "password", "confirm_password", "quota")
    values = _address_form(ctx, form, "quota")
    if form["password"] != form["confirm_password"]:
        return ctx.form_error(InvalidInput("confirm_password", MISMATCH), "mail_new.html", **values)
    try:
        quota = parse_quota(form["quota"])
        _mail(ctx).add_mailbox(form["local_part"], form["domain"], form["password"], quota)
    except HostpanelError as error:
        return ctx.form_error(error, "mail_new.html", fields=MAILBOX_FIELDS, conflict_field="local_part", **values)
    return ctx.redirect("/email/accounts", "mailbox-created")


def _found(ctx: PageContext, mail: MailService, address: str, template: str) -> MailboxRow | Response:
    """The mailbox named by a link or form, or the page saying it is not there."""
    try:
        return MailboxRow(mail.mailbox(address, None), mail)
    except HostpanelError as error:
        ctx.failed = error
        return ctx.render(template, 404, row=None, address=address, missing=error.message, quota="")


def manage_form(ctx: PageContext) -> Response:
    mail = _mail(ctx)
    row = _found(ctx, mail, ctx.query.get("address", ""), "mail_manage.html")
    if isinstance(row, Response):
        return row
    return ctx.render("mail_manage.html", row=row, address=row.address, quota=str(row.mailbox.quota_mb or ""))


def change_password(ctx: PageContext) -> Response:
    mail = _mail(ctx)
    form = _form(ctx, "address", "password", "confirm_password")
    row = _found(ctx, mail, form["address"], "mail_manage.html")
    if isinstance(row, Response):
        return row
    values: dict[str, Any] = {"row": row, "address": row.address, "quota": str(row.mailbox.quota_mb or "")}
    if form["password"] != form["confirm_password"]:
        return ctx.form_error(InvalidInput("confirm_password", MISMATCH), "mail_manage.html", **values)
    try:
        mail.set_password(row.address, None, form["password"])
    except HostpanelError as error:
        return ctx.form_error(error, "mail_manage.html", fields={"email": None}, **values)
    return ctx.redirect("/email/accounts", "mailbox-password")


def change_quota(ctx: PageContext) -> Response:
    mail = _mail(ctx)
    form = _form(ctx, "address", "quota")
    row = _found(ctx, mail, form["address"], "mail_manage.html")
    if isinstance(row, Response):
        return row
    try:
        mail.set_quota(row.address, None, parse_quota(form["quota"]))
    except HostpanelError as error:
        values: dict[str, Any] = {"row": row, "address": row.address, "quota": form["quota"]}
        return ctx.form_error(error, "mail_manage.html", fields={"email": None}, **values)
    return ctx.redirect("/email/accounts", "mailbox-quota")


def delete_form(ctx: PageContext) -> Response:
    row = _found(ctx, _mail(ctx), ctx.query.get("address", ""), "mail_delete.html")
    if isinstance(row, Response):
        return row
    return ctx.render("mail_delete.html", row=row, address=row.address)


def delete(ctx: PageContext) -> Response:
    mail = _mail(ctx)
    row = _found(ctx, mail, str(ctx.form.get("address", "")), "mail_delete.html")
    if isinstance(row, Response):
        return row
    mail.delete_mailbox(row.address, None)
    return ctx.redirect("/email/accounts", "mailbox-deleted")


# Forwarders ----------------------------------------------------------------------------------------------------


def forwarders_page(ctx: PageContext) -> Response:
    return ctx.render("forwarders.html", forwarders=_mail(ctx).forwarders())


def new_forwarder_form(ctx: PageContext) -> Response:
    return ctx.render("forwarder_new.html", **_address_form(ctx, {}, "destination"))


def create_forwarder(ctx: PageContext) -> Response:
    form = _form(ctx, "local_part", "domain", "destination")
    values = _address_form(ctx, form, "destination")
    destinations = [item.strip() for item in form["destination"].split(",") if item.strip()]
    try:
        if not destinations:
            raise InvalidInput("fwdemail", "Enter the address to forward the mail to.")
        _mail(ctx).add_forwarders(form["local_part"], form["domain"], destinations)
    except HostpanelError as error:
        return ctx.form_error(
            error, "forwarder_new.html", fields=FORWARDER_FIELDS, conflict_field="destination", **values
        )
    return ctx.redirect("/email/forwarders", "forwarder-added")


def delete_forwarder(ctx: PageContext) -> Response:
    mail = _mail(ctx)
    form = _form(ctx, "address", "destination")
    try:
        mail.delete_forwarder(form["address"], form["destination"])
    except HostpanelError as error:  # refused before any write: the list can still be read
        return ctx.form_error(error, "forwarders.html", fields={"address": None}, forwarders=mail.forwarders())
    return ctx.redirect("/email/forwarders", "forwarder-deleted")
