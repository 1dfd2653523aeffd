"""The served copies of certificates: the chain and the unencrypted key nginx reads, each a 0600 file in the sites'
certificate directory (0700), written whole (a new file renamed over the old) so nginx never reads half a key."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from hostpanel.domain.sites.certificates import ServedCertificate, SitesLayout


def file_name(domain: str) -> str:
    """`<host>`, or `_.<parent>` for a wildcard `*.<parent>` (the sites' naming)."""
    return "_." + domain[2:] if domain.startswith("*.") else domain


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


class CertificateFiles:
    """Writes and removes a domain's served pair; `snapshot`/`restore` put back what was there when a change is not
    taken (nginx refused it, or the transaction did not commit)."""

    def __init__(self, layout: SitesLayout) -> None:
        self._layout = layout

    def _files(self, domain: str) -> ServedCertificate:
        self._layout.certificates.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self._layout.certificate_files(file_name(domain))

    def write(self, domain: str, chain: bytes, key: bytes) -> None:
        files = self._files(domain)
        _write(files.key, key)  # the key first: a chain without its key is never served (sites need both)
        _write(files.chain, chain)

    def remove(self, domain: str) -> None:
        files = self._files(domain)
        for path in (files.chain, files.key):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def keep_only(self, domains: set[str]) -> list[str]:
        """Remove the served files of every site not in `domains` (an account deleted, a domain moved away): a
        certificate is served only while the database holds it. Returns the names removed."""
        wanted = {file_name(domain) for domain in domains}
        directory = self._layout.certificates
        if not directory.is_dir():
            return []
        removed = []
        for path in directory.iterdir():
            if path.suffix in (".crt", ".key") and not path.name.startswith(".") and path.stem not in wanted:
                path.unlink(missing_ok=True)
                removed.append(path.name)
        return sorted(removed)

    def snapshot(self, domain: str) -> tuple[bytes, bytes] | None:
        files = self._files(domain)
        try:
            return files.chain.read_bytes(), files.key.read_bytes()
        except FileNotFoundError:
            return None

    def restore(self, domain: str, saved: tuple[bytes, bytes] | None) -> None:
        if saved is None:
            self.remove(domain)
        else:
            self.write(domain, *saved)
