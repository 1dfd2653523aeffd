"""A site: one host name an account serves, the kind of domain it is (cPanel's four), and its document root."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hostpanel.domain.accounts.names import DOMAIN_LABEL, validate_domain
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.files.paths import HomePath, parse_in_home

MAIN_DOCROOT = "public_html"


class SiteKind(StrEnum):
    MAIN = "main"  # the account's first domain, served from public_html
    ADDON = "addon"  # another domain of the account, with a zone and a document root of its own
    SUB = "sub"  # a name below one of the account's domains, in that domain's zone
    PARKED = "parked"  # an alias: a domain with its own zone, serving the site of the domain it is parked on


@dataclass(frozen=True)
class Site:
    domain: str
    kind: SiteKind
    docroot: str  # relative to the home, e.g. "public_html/blog"; a parked domain's is its target's
    rootdomain: str | None = None  # a subdomain's parent, or the domain a parked domain aliases

    @property
    def server_names(self) -> tuple[str, ...]:
        """The host names nginx serves it for: cPanel serves `www.` in front of every domain and subdomain."""
        return (self.domain, f"www.{self.domain}")


@dataclass(frozen=True)
class ServedSite:
    """A site as nginx serves it: whose home it is in."""

    username: str
    site: Site


def default_docroot(kind: SiteKind, domain: str) -> str:
    """cPanel's default document roots: public_html for the main domain, a folder of it named after the others."""
    if kind == SiteKind.MAIN:
        return MAIN_DOCROOT
    return f"{MAIN_DOCROOT}/{domain}"


def subdomain_name(label: str, rootdomain: str) -> str:
    """`label.rootdomain`, checked: cPanel's subdomain part is one or more host labels."""
    text = label.strip().lower().rstrip(".")
    suffix = "." + rootdomain
    if text.endswith(suffix):  # a full name given where the part is asked for
        text = text[: -len(suffix)]
    if not text or not all(DOMAIN_LABEL.fullmatch(part) for part in text.split(".")):
        raise InvalidInput("domain", f"“{label.strip()[:63]}” is not a valid subdomain name.")
    if text == "www" or text.startswith("www."):
        raise InvalidInput("domain", "A subdomain may not be named “www”: every domain already serves it.")
    return validate_domain(f"{text}.{rootdomain}")


def parse_docroot(text: str, home: str, username: str) -> HomePath:
    """A document root as cPanel's `dir` takes it: relative to the home, even with a leading slash (or the home's
    absolute path and below), inside it, never the home itself."""
    text = text.strip()
    if text.startswith("/") and not any(text == p or text.startswith(p + "/") for p in (home, f"/home/{username}")):
        text = text.lstrip("/")  # cPanel's `dir=/public_html/blog` is relative to the home
    path = parse_in_home(text, "dir", home, username)
    if path.is_home:
        raise InvalidInput("dir", "The document root cannot be the home directory itself.")
    if any(not _safe(part) for part in path.parts):
        raise InvalidInput(
            "dir", "A document root may use only letters, digits and the characters . _ - + @ ~ in its folder names."
        )
    return path


def _safe(part: str) -> bool:
    """Names nginx's configuration can hold without quoting surprises (no spaces, quotes, `$`, `;`, braces)."""
    return all(char.isascii() and (char.isalnum() or char in "._-+@~") for char in part)
