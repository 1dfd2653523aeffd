"""Domains → SSL/TLS: each site's certificate (issuer, expiry), AutoSSL's last result for it (with its error), and
the install form, through the CertificateService the UAPI uses. A refused installation shows the error beside its
field and shows the certificate and bundle again, never the private key."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from hostpanel.domain.certificates.model import DAY, RENEW_BEFORE, AutoSslStatus, Certificate
from hostpanel.domain.errors import HostpanelError
from hostpanel.web.page import PageContext

# The service's field names as the form calls them.
FIELDS: dict[str, str | None] = {"domain": "domain", "cert": "cert", "key": "key", "cabundle": "cabundle"}


@dataclass(frozen=True)
class SiteRow:
    """One site on the page: its certificate, if any, and AutoSSL's last attempt for it."""

    domain: str
    certificate: Certificate | None
    status: AutoSslStatus | None
    now: float

    @property
    def days_left(self) -> int | None:
        return None if self.certificate is None else int((self.certificate.not_after - self.now) // DAY)

    @property
    def renewal_due(self) -> bool:
        return self.certificate is not None and self.certificate.expires_within(RENEW_BEFORE, self.now)

    @property
    def issuer(self) -> str:
        if self.certificate is None:
            return ""
        issuer = self.certificate.issuer
        common = [part.split("=", 1)[1] for part in issuer.split(",") if part.strip().startswith("CN=")]
        return common[0] if common else issuer


def _rows(ctx: PageContext) -> list[SiteRow]:
    service = ctx.services.certificates
    installed = {c.domain: c for c in service.certificates()}
    statuses = {s.domain: s for s in service.statuses()}
    names = list(dict.fromkeys([*service.domains(), *installed]))
    now = ctx.services.clock.now()
    return [SiteRow(name, installed.get(name), statuses.get(name), now) for name in names]


EMPTY_FORM = {"domain": "", "cert": "", "cabundle": ""}


def ssl_page(ctx: PageContext) -> Response:
    rows = _rows(ctx)
    return ctx.render("ssl.html", rows=rows, domains=[r.domain for r in rows], form=EMPTY_FORM)


def install(ctx: PageContext) -> Response:
    form = {name: str(ctx.form.get(name, "")) for name in ("domain", "cert", "cabundle")}
    key = str(ctx.form.get("key", ""))
    try:
        ctx.services.certificates.install(form["domain"], form["cert"], key, form["cabundle"])
    except HostpanelError as error:
        rows = _rows(ctx)  # read again for the page; the key is never shown again
        return ctx.form_error(error, "ssl.html", fields=FIELDS, rows=rows, domains=[r.domain for r in rows], form=form)
    return ctx.redirect("/domains/ssl", "certificate-installed")


def delete(ctx: PageContext) -> Response:
    try:
        ctx.services.certificates.delete(str(ctx.form.get("domain", "")))
    except HostpanelError as error:
        rows = _rows(ctx)
        domains = [r.domain for r in rows]
        return ctx.form_error(error, "ssl.html", fields={}, rows=rows, domains=domains, form=EMPTY_FORM)
    return ctx.redirect("/domains/ssl", "certificate-deleted")
