"""The stored certificate of a site, and AutoSSL's state for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from hostpanel.domain.certificates.validation import CheckedCertificate

DAY = 86400
# AutoSSL renews a certificate this long before it expires (as cPanel and Let's Encrypt advise).
RENEW_BEFORE = 30 * DAY


class Source(StrEnum):
    """Who put the certificate there: the account (an API call or the page), or AutoSSL."""

    INSTALLED = "installed"
    AUTOSSL = "autossl"


@dataclass(frozen=True)
class NewCertificate:
    """What is stored for an installation: the checked certificate, its key sealed."""

    domain: str
    checked: CheckedCertificate = field(repr=False)
    sealed_key: bytes = field(repr=False)
    source: Source
    installed_at: int


@dataclass(frozen=True)
class Certificate:
    """A site's installed certificate as it is stored; the private key only sealed, and never in `repr`."""

    id: int
    account_id: int
    domain: str
    names: tuple[str, ...]
    subject: str
    issuer: str
    not_before: int
    not_after: int
    serial: str
    key_type: str
    self_signed: bool
    source: Source
    installed_at: int
    certificate_pem: str = field(repr=False)
    cabundle_pem: str = field(repr=False)
    sealed_key: bytes = field(repr=False)

    def expires_within(self, seconds: int, now: float) -> bool:
        return self.not_after - now <= seconds

    @property
    def chain_pem(self) -> str:
        """What nginx presents: the leaf, then the intermediates."""
        return self.certificate_pem + self.cabundle_pem


@dataclass(frozen=True)
class AutoSslStatus:
    """The last AutoSSL attempt for a domain: when, and its error if it failed (None when it succeeded)."""

    domain: str
    checked_at: int
    error: str | None
    succeeded_at: int | None
