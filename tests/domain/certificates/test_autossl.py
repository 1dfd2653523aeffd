"""AutoSSL against Debian's pebble validating DNS-01 through the panel's PowerDNS: a certificate for each site,
served from its files; nothing done while a certificate has more than 30 days left, a renewal within them; a failure
kept for the page and the activity log, the other domains going on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.certificates.autossl import needs_certificate, run_accounts
from hostpanel.domain.certificates.model import DAY, Certificate, Source
from tests.factories import FakeClock, TestCa, make_account, served
from tests.processes import pebble

pytestmark = [pytest.mark.usefixtures("nameserver"), pytest.mark.timeout(120)]


@pytest.fixture
def acme(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """pebble asking the test's nameserver; the settings point AutoSSL at it."""
    with pebble(tmp_path / "pebble", settings.dns_listen) as (directory, ca, _management):
        yield settings.model_copy(update={"acme_directory": directory, "acme_ca_bundle": ca})


@pytest.fixture
def autossl(acme: Settings, clock: FakeClock) -> Iterator[Container]:
    clock.value = time.time()  # pebble dates its certificates by the real clock
    built = Container(acme, clock=clock)
    yield built
    built.close()


def certificates(container: Container, account: Account) -> dict[str, Certificate]:
    with container.read() as uow:
        return {c.domain: c for c in uow.certificates.all(account.id)}


def test_every_site_gets_a_certificate_served_from_its_files(autossl: Container, settings: Settings) -> None:
    alice = make_account(autossl, "alice", domains=("alice.test", "shop.test"))
    results = run_accounts([alice], autossl.autossl)
    assert [(o.domain, o.result, o.error) for o in results["alice"]] == [
        ("alice.test", "issued", None), ("shop.test", "issued", None)
    ]  # fmt: skip
    found = certificates(autossl, alice)
    assert found["alice.test"].source == Source.AUTOSSL and found["alice.test"].names == ("alice.test",)
    chain = x509.load_pem_x509_certificates((settings.home_dir / "nginx/certs/shop.test.crt").read_bytes())
    assert chain[0].subject.rfc4514_string() == found["shop.test"].subject and len(chain) >= 2
    assert served(settings, "_acme-challenge.alice.test", "TXT") == []  # challenges removed
    with autossl.read() as uow:
        assert [s.error for s in uow.certificates.statuses(alice.id)] == [None, None]
    # A second run finds nothing to do.
    assert [o.result for o in run_accounts([alice], autossl.autossl)["alice"]] == ["skipped", "skipped"]


def test_a_certificate_is_renewed_within_30_days_of_its_expiry(autossl: Container, clock: FakeClock) -> None:
    alice = make_account(autossl, "alice", domains=("alice.test",))
    run_accounts([alice], autossl.autossl)
    first = certificates(autossl, alice)["alice.test"]
    clock.value = first.not_after - 31 * DAY
    assert run_accounts([alice], autossl.autossl)["alice"][0].result == "skipped"
    clock.value = first.not_after - 29 * DAY
    assert run_accounts([alice], autossl.autossl)["alice"][0].result == "issued"
    assert certificates(autossl, alice)["alice.test"].serial != first.serial


def test_a_failure_is_recorded_and_the_other_domains_go_on(autossl: Container) -> None:
    make_account(autossl, "alice", domains=("alice.test", "shop.test"))
    with autossl.uow() as uow:  # the zone editor feature off: AutoSSL cannot write alice's challenges
        alice = autossl.accounts(uow).set_features("alice", ["zoneedit"], [])
        uow.commit()
    bob = make_account(autossl, "bob", domains=("bob.test",))
    results = run_accounts([alice, bob], autossl.autossl)
    assert {o.result for o in results["alice"]} == {"failed"} and results["bob"][0].result == "issued"
    error = results["alice"][0].error or ""
    assert "zoneedit" in error
    with autossl.read() as uow:
        assert {s.domain: s.error for s in uow.certificates.statuses(alice.id)}["alice.test"] == error
        events = uow.audit.query(AuditQuery(account_id=alice.id, actions=("account:ssl:autossl",)))
    assert len(events) == 2 and events[0].actor == "autossl" and events[0].outcome == "failure"


def test_an_unreachable_certificate_authority_is_a_recorded_failure(acme: Settings, clock: FakeClock) -> None:
    clock.value = time.time()
    built = Container(acme.model_copy(update={"acme_directory": "https://127.0.0.1:9/dir"}), clock=clock)
    try:
        alice = make_account(built, "alice", domains=("alice.test",))
        (outcome,) = run_accounts([alice], built.autossl)["alice"]
        assert outcome.result == "failed" and "could not be reached" in (outcome.error or "")
    finally:
        built.close()


def test_which_sites_need_a_certificate() -> None:
    ca, now = TestCa(), 1_800_000_000.0
    assert needs_certificate("alice.test", None, now)

    def stored(*names: str, days: int) -> Certificate:
        return Certificate(
            1, 1, names[0], names, "", "", 0, int(now + days * DAY), "1", "ecdsa", False, Source.INSTALLED, 0,
            ca.leaf(names[0]).cert, "", b"",
        )  # fmt: skip

    assert not needs_certificate("alice.test", stored("alice.test", days=31), now)
    assert needs_certificate("alice.test", stored("alice.test", days=30), now)
    assert needs_certificate("alice.test", stored("www.alice.test", days=80), now)
    assert not needs_certificate("blog.alice.test", stored("*.alice.test", days=80), now)
