"""Checking a certificate before it is installed: PEM parsing, the key pair, the names it covers, its chain and its
dates. Every refusal is an `InvalidInput` in cPanel's words, naming the field that is wrong; nothing here echoes the
private key, not even a piece of it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import NameOID

from hostpanel.domain.errors import InvalidInput

# A certificate bundle larger than this is not a site's certificate (cPanel refuses oversized input too).
MAX_PEM_BYTES = 64 * 1024
MAX_CHAIN = 8
# A certificate issued a moment ago may start a little after our clock's now (the CA's clock runs ahead).
CLOCK_SKEW = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class CheckedCertificate:
    """A certificate that passed every check, with what the record shows of it. `key_pem` is the private key as
    PKCS#8 PEM: the caller seals it at once."""

    certificate_pem: str
    cabundle_pem: str
    key_pem: bytes
    names: tuple[str, ...]
    subject: str
    issuer: str
    not_before: int
    not_after: int
    serial: str
    key_type: str
    self_signed: bool


def normalise_host(name: str) -> str:
    return name.strip().lower().removesuffix(".")


def covers(pattern: str, host: str) -> bool:
    """RFC 6125's rule: equal names, or a wildcard `*.example.com` standing for exactly one label (so not
    `example.com` itself, nor `a.b.example.com`)."""
    pattern, host = normalise_host(pattern), normalise_host(host)
    if pattern == host:
        return True
    if not pattern.startswith("*."):
        return False
    label, _, rest = host.partition(".")
    return bool(label) and label != "*" and rest == pattern[2:]


def certificate_names(certificate: x509.Certificate) -> tuple[str, ...]:
    """The DNS names of the subjectAltName extension; only without it the subject's common name (as browsers did)."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return tuple(normalise_host(name) for name in san.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        common = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return (normalise_host(str(common[0].value)),) if common else ()


def _text(value: str, field: str, what: str) -> bytes:
    data = value.strip().encode("utf-8", "replace")
    if not data:
        raise InvalidInput(field, f"You must specify the {what}.")
    if len(data) > MAX_PEM_BYTES:
        raise InvalidInput(field, f"The {what} is larger than {MAX_PEM_BYTES // 1024} KiB.")
    return data


def _certificates(value: str, field: str, what: str) -> list[x509.Certificate]:
    try:
        found = x509.load_pem_x509_certificates(_text(value, field, what))
    except ValueError:
        raise InvalidInput(field, f"The {what} is not a valid PEM-encoded X.509 certificate.") from None
    return found


def _private_key(value: str) -> PrivateKeyTypes:
    data = _text(value, "key", "private key")
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InvalidInput("key", "The private key is encrypted with a passphrase: provide it unencrypted.") from None
    except (ValueError, UnsupportedAlgorithm):
        # The parser's own message may quote the input; ours never does.
        raise InvalidInput("key", "The private key is not a valid PEM-encoded private key.") from None


def _public_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
        return True
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False


def _self_signed(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject and _issued_by(certificate, certificate)


def _check_chain(leaf: x509.Certificate, bundle: list[x509.Certificate]) -> None:
    """The chain must reach as far as the bundle can take it: the leaf's issuer must be in it (unless the leaf signs
    itself), and each certificate is followed to its own issuer while the bundle has it. Ending on a root or on an
    intermediate whose root the clients hold (what servers send) is complete; a missing link is not."""
    if _self_signed(leaf):
        return
    current, used = leaf, 0
    while used < MAX_CHAIN:
        parent = next((c for c in bundle if c.subject == current.issuer and _issued_by(current, c)), None)
        if parent is None:
            break
        current, used = parent, used + 1
        if _self_signed(current):
            return
    if used == 0:
        issuer = current.issuer.rfc4514_string()
        raise InvalidInput(
            "cabundle",
            f"The certificate’s chain is incomplete: the CA bundle has no certificate of its issuer “{issuer}”.",
        )


def _seconds(moment: datetime.datetime) -> int:
    return int(moment.timestamp())


def _key_type(key: PrivateKeyTypes) -> str:
    name = type(key).__name__.lower()
    for kind in ("rsa", "ec", "ed25519", "ed448"):
        if name.startswith(f"_{kind}") or name.startswith(kind):
            return {"ec": "ecdsa"}.get(kind, kind)
    return "other"


def check_certificate(crt: str, key: str, cabundle: str, domain: str, now: float) -> CheckedCertificate:
    """Everything cPanel checks before installing: parseable, the key matches, the domain is covered, the chain is
    complete and the certificate is within its dates. The first failure is raised."""
    certificates = _certificates(crt, "cert", "certificate")
    leaf, extra = certificates[0], certificates[1:]
    private = _private_key(key)
    if _public_der(private.public_key()) != _public_der(leaf.public_key()):
        raise InvalidInput("key", "The certificate does not match the private key.")
    names = certificate_names(leaf)
    host = normalise_host(domain)
    if not any(covers(name, host) for name in names):
        listed = ", ".join(names) or "none"
        raise InvalidInput("domain", f"The certificate does not cover the domain “{host}” (it names: {listed}).")
    moment = datetime.datetime.fromtimestamp(now, datetime.UTC)
    if leaf.not_valid_after_utc <= moment:
        raise InvalidInput("cert", f"The certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC.")
    if leaf.not_valid_before_utc > moment + CLOCK_SKEW:
        start = leaf.not_valid_before_utc
        raise InvalidInput("cert", f"The certificate is not valid before {start:%Y-%m-%d %H:%M} UTC.")
    bundle = [*extra, *(_certificates(cabundle, "cabundle", "CA bundle") if cabundle.strip() else [])]
    _check_chain(leaf, bundle)
    key_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pem = serialization.Encoding.PEM
    return CheckedCertificate(
        certificate_pem=leaf.public_bytes(pem).decode(),
        cabundle_pem="".join(c.public_bytes(pem).decode() for c in bundle),
        key_pem=key_pem,
        names=names,
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        not_before=_seconds(leaf.not_valid_before_utc),
        not_after=_seconds(leaf.not_valid_after_utc),
        serial=format(leaf.serial_number, "x"),
        key_type=_key_type(private),
        self_signed=_self_signed(leaf),
    )
