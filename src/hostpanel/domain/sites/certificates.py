"""The seam between sites and certificates: which certificate a site's HTTPS server uses, and how a change is served.

The certificate side (installing, removing, renewing) writes a host's PEM chain and private key as two files, each
mode 0600, in the certificate directory of `SitesLayout` (`<HOSTPANEL_HOME>/nginx/certs/`), then calls
`SitePublisher.publish()`; the sites side reads them through a `CertificateSource` when it writes nginx's
configuration, so the certificate is served before `publish()` returns. The files are named after the host they serve:

- `<host>.crt` / `<host>.key` for one host (`alice.test.crt`),
- `_.<parent>.crt` / `_.<parent>.key` for a wildcard certificate `*.<parent>`, used by every host one label below
  `<parent>` that has no certificate of its own.

`.crt` holds the leaf first, then the intermediates (nginx's `ssl_certificate`); `.key` the unencrypted key nginx
reads (the encrypted copy at rest is the certificate side's). A host without both files has no HTTPS site: nginx's
default HTTPS server answers it by refusing the TLS handshake (`ssl_reject_handshake`), so no other site's
certificate is ever shown for it.

HTTP-01 challenges: every site's HTTP server answers `/.well-known/acme-challenge/<token>` from the challenge
directory (`<HOSTPANEL_HOME>/nginx/acme-challenge/`, owned by the panel, never inside an account's home): an ACME
client of the panel writes the key authorisation as the file named by the token there, and removes it afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hostpanel.domain.errors import HostpanelError


class SitesUnavailable(HostpanelError):
    """nginx refused the new configuration or did not take it; the previous one is still served. The message says
    why (nginx's own words, without paths of other accounts)."""


@dataclass(frozen=True)
class ServedCertificate:
    """The files of the certificate a site's HTTPS server presents."""

    chain: Path  # PEM: the leaf, then the intermediates
    key: Path  # PEM: the private key (mode 0600)


class CertificateSource(Protocol):
    """Which certificate, if any, nginx presents for a host."""

    def served_certificate(self, domain: str) -> ServedCertificate | None: ...


class SitePublisher(Protocol):
    """Writes nginx's configuration from what the database holds now, checks it, and serves it."""

    def publish(self) -> None:
        """Return once nginx serves the new configuration; raise `SitesUnavailable` (and keep the previous one)
        if it is refused or nginx does not take it."""
        ...


@dataclass(frozen=True)
class SitesLayout:
    """Where the panel keeps nginx's files under its data directory (`HOSTPANEL_HOME`)."""

    home: Path

    @property
    def root(self) -> Path:
        return self.home / "nginx"

    @property
    def certificates(self) -> Path:
        """`<host>.crt` and `<host>.key` (0600), written by the certificate side; the directory is 0700."""
        return self.root / "certs"

    @property
    def challenges(self) -> Path:
        """HTTP-01 answers, one file per token, served for every site at `/.well-known/acme-challenge/`."""
        return self.root / "acme-challenge"

    def certificate_files(self, name: str) -> ServedCertificate:
        """The two files of a certificate stored under `name` (a host, or `_.<parent>` for `*.<parent>`)."""
        return ServedCertificate(self.certificates / f"{name}.crt", self.certificates / f"{name}.key")


class CertificateFiles:
    """`CertificateSource` over the certificate directory: the host's own pair, else its parent's wildcard pair."""

    def __init__(self, layout: SitesLayout) -> None:
        self._layout = layout

    def served_certificate(self, domain: str) -> ServedCertificate | None:
        names = [domain]
        if "." in domain:
            names.append("_." + domain.split(".", 1)[1])
        for name in names:
            files = self._layout.certificate_files(name)
            if files.chain.is_file() and files.key.is_file():
                return files
        return None
