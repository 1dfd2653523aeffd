"""Hosting packages."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hostpanel.domain.errors import Conflict
from hostpanel.domain.whm.packages import Package
from hostpanel.storage.repositories.errors import is_unique_violation
from hostpanel.storage.tables import accounts, packages


def _package(row: Any) -> Package:
    return Package(row.name, row.owner, json.loads(row.settings), row.created_at)


class SqlPackageRepository:
    """The package repository on a database connection (see `ports.PackageRepository`)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, package: Package) -> None:
        values = {
            "name": package.name,
            "owner": package.owner,
            "settings": json.dumps(package.settings, sort_keys=True),
            "created_at": package.created_at,
        }
        try:
            self._c.execute(insert(packages).values(values))
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict(
                    f"The package “{package.name}” already exists. If you wish to make changes, please edit the "
                    "package."
                ) from None
            raise

    def get(self, name: str) -> Package | None:
        row = self._c.execute(select(packages).where(packages.c.name == name)).first()
        return _package(row) if row else None

    def all(self) -> list[Package]:
        return [_package(row) for row in self._c.execute(select(packages).order_by(packages.c.name))]

    def update(self, name: str, settings: dict[str, str]) -> None:
        value = json.dumps(settings, sort_keys=True)
        self._c.execute(update(packages).where(packages.c.name == name).values(settings=value))

    def delete(self, name: str) -> bool:
        return self._c.execute(delete(packages).where(packages.c.name == name)).rowcount > 0

    def users(self, name: str) -> int:
        """How many accounts are on the package."""
        return int(self._c.execute(select(func.count()).where(accounts.c.plan == name)).scalar_one())
