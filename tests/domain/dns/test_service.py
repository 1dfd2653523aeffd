"""The DNS service against a real PowerDNS: edits of one zone take turns, the serial check decides between two
batches read at the same serial, and an edit is acknowledged only once the nameserver serves it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.dns.records import Record
from hostpanel.domain.dns.service import DnsService, NotPublished, StaleZone
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.principal import Principal
from hostpanel.nameserver.pdns import PowerDns
from hostpanel.nameserver.probe import DnsProbe
from tests.factories import served, served_serial

pytestmark = pytest.mark.usefixtures("nameserver")
ZONE = "alice.test"


def txt(name: str, value: str) -> Record:
    return Record.parse(ZONE, name, 60, "TXT", [value])


def run(container: Container, account: Account, work: Callable[[DnsService], Any], **options: Any) -> Any:
    """`work` with a DNS service of its own (its own connection), as one request of one process would."""
    with container.uow(write=False) as uow:
        service = container.dns(Principal.admin(account), uow, **options)
        return work(service)


def serial_of(container: Container, account: Account) -> str:
    return str(run(container, account, lambda dns: dns.zone(ZONE).serial))


def test_two_batches_read_at_one_serial_get_one_success_and_one_stale(
    container: Container, alice: Account, settings: Settings
) -> None:
    serial = serial_of(container, alice)
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def edit(value: str) -> None:
        start.wait()
        try:
            outcomes[value] = run(
                container, alice, lambda dns: dns.mass_edit(ZONE, serial, [txt("_acme-challenge", value)])
            )
        except StaleZone as stale:
            outcomes[value] = stale

    threads = [threading.Thread(target=edit, args=(value,)) for value in ("apex", "wildcard")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stale = [value for value, outcome in outcomes.items() if isinstance(outcome, StaleZone)]
    assert len(stale) == 1, outcomes
    # The client's retry: read again, send again.
    run(
        container,
        alice,
        lambda dns: dns.mass_edit(ZONE, serial_of(container, alice), [txt("_acme-challenge", stale[0])]),
    )
    assert served(settings, "_acme-challenge.alice.test", "TXT") == ["apex", "wildcard"]


def test_api2_adds_to_one_zone_take_turns(container: Container, alice: Account, settings: Settings) -> None:
    before = served_serial(settings, ZONE)
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            run(container, alice, lambda dns: dns.add(ZONE, txt("_acme-challenge", f"value-{n}")))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert served(settings, "_acme-challenge.alice.test", "TXT") == sorted(f"value-{n}" for n in range(8))
    assert served_serial(settings, ZONE) == before + 8
    zone = run(container, alice, lambda dns: dns.zone(ZONE))
    assert len({line.index for line in zone.lines()}) == len(zone.lines())


def test_a_nameserver_that_does_not_answer_refuses_the_edit_and_nothing_changes(
    container: Container, alice: Account, nameserver: PowerDns, settings: Settings
) -> None:
    serial = serial_of(container, alice)
    nameserver.stop()
    with pytest.raises(NotPublished, match=r"does not answer for “alice.test”, so nothing was changed"):
        run(container, alice, lambda dns: dns.mass_edit(ZONE, serial, [txt("down", "x")]))
    assert serial_of(container, alice) == serial
    nameserver.start()
    run(container, alice, lambda dns: dns.mass_edit(ZONE, serial, [txt("down", "x")]))
    assert served(settings, "down.alice.test", "TXT") == ["x"]


class StopsAfterItsFirstAnswer:
    """A nameserver that answers the check before a change and has stopped by the time the change is committed."""

    def __init__(self, probe: DnsProbe, server: PowerDns) -> None:
        self._probe, self._server, self.asked = probe, server, 0

    @property
    def address(self) -> str:
        return self._probe.address

    def serial(self, zone: str) -> int | None:
        self.asked += 1
        if self.asked == 2:
            self._server.stop()
        return self._probe.serial(zone)


def test_an_edit_the_nameserver_could_not_confirm_is_reported_and_served_once_it_is_back(
    container: Container, alice: Account, nameserver: PowerDns, settings: Settings
) -> None:
    serial = serial_of(container, alice)
    with container.uow(write=False) as uow:
        service = container.dns(Principal.admin(alice), uow)
        service._nameserver = StopsAfterItsFirstAnswer(container.nameserver, nameserver)
        with pytest.raises(NotPublished, match=r"The change was saved \(serial [0-9]+\), but the nameserver"):
            service.mass_edit(ZONE, serial, [txt("late", "y")])
    nameserver.start()
    assert served(settings, "late.alice.test", "TXT") == ["y"]  # nothing half-applied: all of it, served now
    assert served_serial(settings, ZONE) == int(serial_of(container, alice))


class ServesAnotherZone:
    address = "192.0.2.53:53"

    def serial(self, zone: str) -> int | None:
        return 1


def test_a_nameserver_serving_other_data_refuses_the_edit(container: Container, alice: Account) -> None:
    serial = serial_of(container, alice)
    with container.uow(write=False) as uow:
        service = container.dns(Principal.admin(alice), uow)
        service._nameserver = ServesAnotherZone()
        with pytest.raises(NotPublished, match="serves “alice.test” with serial 1, not"):
            service.mass_edit(ZONE, serial, [txt("x", "y")])
    assert serial_of(container, alice) == serial


def test_offline_edits_skip_the_nameserver(
    container: Container, alice: Account, nameserver: PowerDns, settings: Settings
) -> None:
    nameserver.stop()
    run(container, alice, lambda dns: dns.add(ZONE, txt("offline", "z")), offline=True)
    nameserver.start()
    assert served(settings, "offline.alice.test", "TXT") == ["z"]


def test_every_edit_is_recorded_with_names_types_and_the_new_serial(container: Container, alice: Account) -> None:
    new = run(
        container, alice, lambda dns: dns.mass_edit(ZONE, serial_of(container, alice), [txt("_acme-challenge", "v")])
    )
    with container.uow(write=False) as uow:
        (event,) = uow.audit.query(AuditQuery(actions=("admin:dns:edit",)))
    assert event.target == ZONE and event.details == {"serial": new, "added": ["TXT _acme-challenge.alice.test"]}


def test_a_zone_import_replaces_every_record_and_moves_the_serial_on(
    container: Container, alice: Account, settings: Settings
) -> None:
    before = served_serial(settings, ZONE)
    text = """$TTL 300
@ IN SOA ns1.alice.test. admin.alice.test. 1 7200 900 604800 300
@ IN NS ns1.example.net.
@ IN A 192.0.2.44
www IN CNAME alice.test.
"""
    run(container, alice, lambda dns: dns.replace(ZONE, text))
    assert served(settings, "alice.test", "A") == ["192.0.2.44"]
    assert served(settings, "www.alice.test", "CNAME", tcp=True) == ["alice.test."]
    assert served(settings, "mail.alice.test", "A") == []
    assert served_serial(settings, ZONE) > before  # never back to the file's 1
    for bad in ("www.bob.test. 60 IN A 192.0.2.1\n", "@ IN A 192.0.2.1\n"):  # outside the zone; no NS left
        with pytest.raises(InvalidInput), container.uow(write=False) as uow:
            container.dns(Principal.admin(alice), uow).replace(ZONE, bad)
    assert served(settings, "alice.test", "A") == ["192.0.2.44"]
