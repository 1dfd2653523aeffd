"""Domains: the account's sites (each domain and subdomain, its kind and document root), subdomains and addon
domains added and removed through the SiteService the APIs use. A change is served by nginx (and its DNS records by
the nameserver) before the page comes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.sites.model import SiteKind
from hostpanel.web.page import PageContext

KIND_LABELS = {
    SiteKind.MAIN: "Main domain",
    SiteKind.ADDON: "Addon domain",
    SiteKind.SUB: "Subdomain",
    SiteKind.PARKED: "Alias",
}
FIELDS = ("subdomain", "rootdomain", "dir", "newdomain", "addon_dir")


def _values(ctx: PageContext, **values: Any) -> dict[str, Any]:
    sites = ctx.services.sites.sites()
    roots = [site.domain for site in sites if site.kind != SiteKind.SUB]
    form = {**dict.fromkeys(FIELDS, ""), "rootdomain": roots[0] if roots else "", **values.pop("form", {})}
    return {"sites": sites, "roots": roots, "labels": KIND_LABELS, "form": form, "home": ctx.services.sites.home(),
            **values}  # fmt: skip


def domains_page(ctx: PageContext) -> Response:
    return ctx.render("domains.html", **_values(ctx))


def _form(ctx: PageContext) -> dict[str, str]:
    return {name: str(ctx.form.get(name, "")) for name in (*FIELDS, "domain")}


def _changing(
    change: Callable[[PageContext, dict[str, str]], object], fields: dict[str, str | None], notice: str
) -> Callable[[PageContext], Response]:
    """A form making one change: done and served (back to the list with a notice), or the list again with the
    refusal beside its field."""

    def page(ctx: PageContext) -> Response:
        form = _form(ctx)
        try:
            change(ctx, form)
        except HostpanelError as error:
            return ctx.form_error(error, "domains.html", fields=fields, **_values(ctx, form=form))
        return ctx.redirect("/domains", notice)

    return page


add_subdomain = _changing(
    lambda ctx, form: ctx.services.sites.add_subdomain(form["subdomain"], form["rootdomain"], form["dir"] or None),
    {"domain": "subdomain", "rootdomain": "rootdomain", "dir": "dir"},
    "subdomain-added",
)
add_addon = _changing(
    lambda ctx, form: ctx.services.sites.add_domain(form["newdomain"], form["addon_dir"] or None),
    {"domain": "newdomain", "dir": "addon_dir"},
    "domain-added",
)
remove_subdomain = _changing(
    lambda ctx, form: ctx.services.sites.remove_subdomain(form["domain"]), {"domain": None}, "domain-removed"
)
remove_addon = _changing(
    lambda ctx, form: ctx.services.sites.remove_domain(form["domain"], SiteKind.ADDON),
    {"domain": None},
    "domain-removed",
)
