"""`AcmeIssuer` over certbot's `acme` library (RFC 8555): an account key kept in the data directory (0600), a new
key per certificate, DNS-01 answered through the account's zones, the order polled to the end, the challenges removed
whatever happens."""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from acme import challenges, client, errors, messages
from acme.crypto_util import make_csr
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from josepy.jwk import JWKRSA

from hostpanel.domain.certificates.autossl import AcmeFailure, DnsChallenges, Issued

USER_AGENT = "hostpanel-autossl"
ORDER_SECONDS = 120


def _account_key(path: Path) -> JWKRSA:
    """The ACME account's key, made on first use; never overwritten (the account is bound to it)."""
    try:
        return JWKRSA.json_loads(path.read_text())
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = JWKRSA(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return JWKRSA.json_loads(path.read_text())
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key.json_dumps())
    return key


def _new_key() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    encoding, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    return key.private_bytes(encoding, pkcs8, serialization.NoEncryption())


def _reason(error: Exception) -> str:
    if isinstance(error, messages.Error):
        return f"The certificate authority refused: {error.detail or error.typ}"
    if isinstance(error, errors.ValidationError):
        details = "; ".join(
            str(c.error.detail if c.error else c.status) for a in error.failed_authzrs for c in a.body.challenges
        )
        return f"The certificate authority could not validate the domain: {details}"
    if isinstance(error, errors.TimeoutError):
        return "The certificate authority did not finish the order in time."
    return f"The certificate authority could not be reached: {type(error).__name__}"


class AcmeIssuer:
    """Orders certificates from one ACME directory. `ca_bundle` is the CA file to trust for the server's HTTPS
    (a test server's); None trusts the system's."""

    def __init__(self, directory: str, account_file: Path, *, ca_bundle: Path | None, email: str | None) -> None:
        self._directory = directory
        self._account_file = account_file
        self._verify: bool | str = str(ca_bundle) if ca_bundle is not None else True
        self._email = email

    def _client(self) -> tuple[client.ClientV2, JWKRSA]:
        key = _account_key(self._account_file)
        # acme hands `verify_ssl` to requests, which also takes a CA file there (acme's annotation says bool).
        net = client.ClientNetwork(key, user_agent=USER_AGENT, verify_ssl=cast("bool", self._verify))
        acme = client.ClientV2(client.ClientV2.get_directory(self._directory, net), net)
        registration = messages.NewRegistration.from_data(email=self._email, terms_of_service_agreed=True)
        try:
            acme.new_account(registration)
        except errors.ConflictError as existing:  # the key already has an account: use it
            net.account = messages.RegistrationResource(uri=existing.location, body=messages.Registration())
        return acme, key

    def issue(self, names: Sequence[str], dns: DnsChallenges) -> Issued:
        try:
            return self._issue(names, dns)
        except AcmeFailure:
            raise
        except (messages.Error, errors.Error, OSError) as error:
            raise AcmeFailure(_reason(error)) from None

    def _issue(self, names: Sequence[str], dns: DnsChallenges) -> Issued:
        acme, account_key = self._client()
        key_pem = _new_key()
        order = acme.new_order(make_csr(key_pem, list(names)))
        presented: list[tuple[str, str]] = []
        try:
            for authorization in order.authorizations:
                identifier = authorization.body.identifier.value
                found = [c for c in authorization.body.challenges if isinstance(c.chall, challenges.DNS01)]
                if not found:
                    raise AcmeFailure(f"The certificate authority offers no DNS-01 challenge for “{identifier}”.")
                challenge = found[0]
                assert isinstance(challenge.chall, challenges.DNS01)
                name = challenge.chall.validation_domain_name(identifier)
                value = challenge.chall.validation(account_key)
                dns.present(name, value)
                presented.append((name, value))
                acme.answer_challenge(challenge, challenge.chall.response(account_key))
            deadline = datetime.datetime.now() + datetime.timedelta(seconds=ORDER_SECONDS)
            done = acme.poll_and_finalize(order, deadline=deadline)
        finally:
            for name, value in presented:
                with contextlib.suppress(Exception):  # a challenge left behind is harmless; the order's result counts
                    dns.cleanup(name, value)
        if not done.fullchain_pem:
            raise AcmeFailure("The certificate authority returned no certificate.")
        return Issued(chain_pem=done.fullchain_pem, key_pem=key_pem.decode())
