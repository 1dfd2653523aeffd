"""A stored certificate in cPanel's words (`list_certs`, `installed_hosts`): public fields only, never the key."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.certificates.model import Certificate

PARAM_DOMAIN = "The site the certificate is for: one of the account's domains or a name under one."


def cert_id(certificate: Certificate) -> str:
    """cPanel's kind of id: the domain, the serial's start and the expiry."""
    return f"{certificate.domain.replace('.', '_').replace('*', '_')}_{certificate.serial[:10]}_{certificate.not_after}"


def _attribute(rfc4514: str, key: str) -> str | None:
    for part in rfc4514.split(","):
        name, _, value = part.partition("=")
        if name.strip() == key:
            return value.strip()
    return None


def described(certificate: Certificate) -> dict[str, Any]:
    return {
        "id": cert_id(certificate),
        "domains": list(certificate.names),
        "not_before": certificate.not_before,
        "not_after": certificate.not_after,
        "serial": certificate.serial,
        "is_self_signed": int(certificate.self_signed),
        "key_algorithm": certificate.key_type,
        "subject_text": certificate.subject,
        "issuer_text": certificate.issuer,
        "subject.commonName": _attribute(certificate.subject, "CN"),
        "issuer.commonName": _attribute(certificate.issuer, "CN"),
        "issuer.organizationName": _attribute(certificate.issuer, "O"),
        "friendly_name": certificate.domain,
        "created": certificate.installed_at,
        "source": certificate.source.value,
    }
