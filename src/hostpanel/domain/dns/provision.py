"""Zones made and removed with the account domains they serve, in the same transaction."""

from __future__ import annotations

from collections.abc import Callable

from hostpanel.domain.clock import Clock
from hostpanel.domain.dns.zone import ZoneTemplate, default_zone, next_serial
from hostpanel.domain.ports import UnitOfWork


def owner_nameservers(uow: UnitOfWork, owner: str) -> tuple[str, ...]:
    """The nameservers the reseller `owner` set for its accounts (setresellernameservers); none for root, for an
    account that is no reseller, or for a reseller that set none (the server's then apply)."""
    account = uow.accounts.get_by_username(owner)
    if account is None or not account.is_reseller:
        return ()
    text = uow.accounts.reseller_limits(account.id).get("nameservers", "")
    return tuple(name for name in text.split(",") if name)


def create_zone(uow: UnitOfWork, name: str, template: ZoneTemplate, now: float) -> None:
    """A domain's new zone (cPanel's default content, serial today's `YYYYMMDD00`)."""
    soa, records = default_zone(name, template, next_serial(0, now))
    uow.zones.create(name, soa, records)


def create_missing(begin: Callable[[bool], UnitOfWork], template: ZoneTemplate, clock: Clock) -> list[str]:
    """Zones for the account domains that have none (domains made before the panel kept zones); their names."""
    with begin(True) as uow:
        missing = uow.zones.missing()
        for name in missing:
            create_zone(uow, name, template, clock.now())
        uow.commit()
    return missing
