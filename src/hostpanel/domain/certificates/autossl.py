"""AutoSSL: a certificate for every site of an account from an ACME server, renewed 30 days before it expires.

Challenges are answered by DNS-01 in the account's own zones, which the panel's nameserver serves as soon as the
edit returns; the ACME protocol itself is behind the `AcmeIssuer` port (the ACME library lives outside the domain).
Each domain's result (success, or the error) is kept for the account's page and failures go to the activity log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from hostpanel.domain.accounts.model import Account
from hostpanel.domain.certificates.model import RENEW_BEFORE, Certificate, Source
from hostpanel.domain.certificates.service import CertificateService
from hostpanel.domain.certificates.validation import covers
from hostpanel.domain.clock import Clock
from hostpanel.domain.dns.records import Record
from hostpanel.domain.dns.service import DnsService
from hostpanel.domain.errors import HostpanelError

log = logging.getLogger(__name__)
CHALLENGE_TTL = 60


class DnsChallenges(Protocol):
    """Where an ACME client puts DNS-01 answers: a TXT record at `_acme-challenge.<domain>`, served when `present`
    returns, and gone after `cleanup`."""

    def present(self, name: str, value: str) -> None: ...

    def cleanup(self, name: str, value: str) -> None: ...


@dataclass(frozen=True)
class Issued:
    """A new certificate: the chain (leaf first) and its private key, both PEM."""

    chain_pem: str
    key_pem: str


class AcmeIssuer(Protocol):
    """Orders a certificate for `names` from the ACME server, answering its DNS-01 challenges through `challenges`.
    Raises `AcmeFailure` with a message fit for the account's page."""

    def issue(self, names: Sequence[str], challenges: DnsChallenges) -> Issued: ...


class AcmeFailure(HostpanelError):
    """The ACME server refused or failed the order (its own words, shortened)."""


@dataclass(frozen=True)
class Outcome:
    """What AutoSSL did for one domain: `issued`, `skipped` (a certificate good for more than 30 days) or
    `failed` (with the error)."""

    domain: str
    result: str
    error: str | None = None


def needs_certificate(domain: str, current: Certificate | None, now: float) -> bool:
    """A site needs one when it has none, when its certificate no longer covers it, or within 30 days of expiry."""
    if current is None:
        return True
    if not any(covers(name, domain) for name in current.names):
        return True
    return current.expires_within(RENEW_BEFORE, now)


Session = Callable[[bool], AbstractContextManager[tuple[CertificateService, DnsService]]]


def _zone_of(dns: DnsService, host: str) -> str:
    zones = sorted((z for z in dns.zones() if host == z or host.endswith("." + z)), key=len, reverse=True)
    if not zones:
        raise AcmeFailure(f"No DNS zone of the account holds “{host}”.")
    return zones[0]


class ZoneChallenges:
    """DNS-01 answers as TXT records in the account's zone that holds the name (each edit is served before it
    returns, so the ACME server can look at once). Each step reads the zone afresh."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def present(self, name: str, value: str) -> None:
        host = name.lower().removesuffix(".")
        with self._session(False) as (_certificates, dns):
            zone = _zone_of(dns, host)
            dns.add(zone, Record.parse(zone, host + ".", CHALLENGE_TTL, "TXT", [value]))

    def cleanup(self, name: str, value: str) -> None:
        host = name.lower().removesuffix(".")
        with self._session(False) as (_certificates, dns):
            zone = _zone_of(dns, host)
            lines = sorted(dns.zone(zone).records(), key=lambda line: line.index, reverse=True)
            for line in lines:  # from the last: removing a line moves only those after it
                record = line.record
                if record.type == "TXT" and record.name == host and "".join(record.fields) == value:
                    dns.remove(zone, line.index)


class AutoSsl:
    """One account's run: each of its domains that needs a certificate gets one (or its error recorded). `session`
    opens the account's services in a transaction of their own (writing or not), committed when the block ends
    without an error."""

    def __init__(
        self,
        session: Session,
        issuer: AcmeIssuer,
        clock: Clock,
    ) -> None:
        self._session = session
        self._issuer = issuer
        self._clock = clock

    def run(self) -> list[Outcome]:
        with self._session(False) as (certificates, _dns):
            domains = certificates.domains()
            current = {c.domain: c for c in certificates.certificates()}
        return [self._one(domain, current.get(domain)) for domain in domains]

    def _one(self, domain: str, current: Certificate | None) -> Outcome:
        if not needs_certificate(domain, current, self._clock.now()):
            return Outcome(domain, "skipped")
        try:
            issued = self._issuer.issue([domain], ZoneChallenges(self._session))
            chain, _, rest = issued.chain_pem.partition("-----END CERTIFICATE-----")
            with self._session(True) as (certificates, _dns):
                certificates.install(
                    domain, chain + "-----END CERTIFICATE-----\n", issued.key_pem, rest.strip(), Source.AUTOSSL
                )
                certificates.record_autossl(domain, None)
            return Outcome(domain, "issued")
        except HostpanelError as error:
            message = error.message[:500]
        except Exception as error:  # any failure of one domain is recorded; the others go on
            log.exception("AutoSSL failed for %s", domain)
            message = f"{type(error).__name__}: {str(error)[:400]}"
        with self._session(True) as (certificates, _dns):
            certificates.record_autossl(domain, message)
        return Outcome(domain, "failed", message)


def run_accounts(accounts: Sequence[Account], autossl: Callable[[Account], AutoSsl]) -> dict[str, list[Outcome]]:
    """AutoSSL over accounts, one after the other; suspended accounts are left alone (their sites are off)."""
    return {account.username: autossl(account).run() for account in accounts if account.is_active}
