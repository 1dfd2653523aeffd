"""`CertificateService`: an account's certificates for one principal: install (checked, key sealed, served before
the call returns), list, delete, and AutoSSL's last results."""

from __future__ import annotations

from collections.abc import Sequence

from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.certificates.files import CertificateFiles
from hostpanel.domain.certificates.model import AutoSslStatus, Certificate, NewCertificate, Source
from hostpanel.domain.certificates.validation import check_certificate, normalise_host
from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import InvalidInput, NotFound
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.sealing import SecretBox
from hostpanel.domain.sites.certificates import SitePublisher


def key_context(account_id: int, domain: str) -> str:
    """What a sealed key is bound to: a row copied to another account or domain does not open."""
    return f"certificate-key:{account_id}:{domain}"


def site_of(domains: Sequence[str], name: str) -> str:
    """`name` (a host, or `*.<host>`) as a site of the account: one of its domains or a name under one."""
    host = normalise_host(name)
    bare = host.removeprefix("*.")
    if host and any(bare == domain or bare.endswith("." + domain) for domain in domains):
        return host
    raise InvalidInput("domain", f"The domain “{name.strip()[:253]}” is not one of your account’s domains.")


def forget_orphans(uow: UnitOfWork, files: CertificateFiles, publisher: SitePublisher | None) -> list[str]:
    """Stop serving certificates the database no longer holds (their account or domain is gone)."""
    removed = files.keep_only(uow.certificates.sites())
    if removed and publisher is not None:
        publisher.publish()
    return removed


class CertificateService:
    """Certificates of the principal's account. An installation is checked first, its key sealed in the database
    and written as the 0600 file nginx reads; it is served before the call returns or nothing changes."""

    def __init__(
        self,
        uow: UnitOfWork,
        principal: Principal,
        *,
        box: SecretBox,
        files: CertificateFiles,
        publisher: SitePublisher | None,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._uow = uow
        self._principal = principal
        self._box = box
        self._files = files
        self._publisher = publisher
        self._clock = clock
        self._audit = audit

    @property
    def _account_id(self) -> int:
        return self._principal.account.id

    def domains(self) -> list[str]:
        return self._uow.accounts.domains(self._account_id)

    def certificates(self) -> list[Certificate]:
        return self._uow.certificates.all(self._account_id)

    def statuses(self) -> list[AutoSslStatus]:
        return self._uow.certificates.statuses(self._account_id)

    def install(
        self, domain: str, crt: str, key: str, cabundle: str = "", source: Source = Source.INSTALLED
    ) -> Certificate:
        site = site_of(self.domains(), domain)
        checked = check_certificate(crt, key, cabundle, site, self._clock.now())
        sealed = self._box.seal(checked.key_pem, key_context(self._account_id, site))
        stored = self._uow.certificates.put(
            self._account_id,
            NewCertificate(site, checked, sealed, source, int(self._clock.now())),
        )
        self._serve(site, (stored.chain_pem.encode(), checked.key_pem))
        self._audit.record_by(
            self._principal,
            AuditAction.ACCOUNT_SSL_INSTALL,
            target=site,
            details={"names": list(checked.names), "issuer": checked.issuer, "not_after": checked.not_after,
                     "source": source.value},
        )  # fmt: skip
        return stored

    def delete(self, domain: str) -> Certificate:
        site = normalise_host(domain)
        found = self._uow.certificates.get(self._account_id, site)
        if found is None:
            raise NotFound(f"No certificate is installed for “{domain.strip()[:253]}”.")
        self._uow.certificates.delete(self._account_id, site)
        self._serve(site, None)
        self._audit.record_by(self._principal, AuditAction.ACCOUNT_SSL_DELETE, target=site)
        return found

    def record_autossl(self, domain: str, error: str | None) -> None:
        """AutoSSL's result for a domain, on the page and in the activity log."""
        now = int(self._clock.now())
        self._uow.certificates.record_attempt(self._account_id, domain, now, error)
        if error is not None:
            self._audit.record_by(
                self._principal, AuditAction.ACCOUNT_SSL_AUTOSSL, target=domain, outcome=Outcome.FAILURE,
                details={"error": error},
            )  # fmt: skip

    def _serve(self, site: str, pair: tuple[bytes, bytes] | None) -> None:
        """Put the new files in place and have nginx serve them; if nginx refuses, or the transaction does not
        commit, the files that were there come back (and nginx serves them again)."""
        saved = self._files.snapshot(site)

        def put_back() -> None:
            self._files.restore(site, saved)
            if self._publisher is not None:
                self._publisher.publish()

        if pair is None:
            self._files.remove(site)
        else:
            self._files.write(site, *pair)
        try:
            if self._publisher is not None:
                self._publisher.publish()
        except BaseException:
            put_back()
            raise
        self._uow.on_rollback(put_back)
