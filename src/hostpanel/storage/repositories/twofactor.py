"""Two-factor secrets (sealed) and recovery codes (keyed digests)."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hostpanel.domain.errors import Conflict
from hostpanel.domain.twofactor.model import TwoFactorRecord
from hostpanel.storage.repositories.errors import is_unique_violation
from hostpanel.storage.tables import recovery_codes, two_factor


class SqlTwoFactorRepository:
    """The two-factor repository on a database connection (see `ports.TwoFactorRepository`)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, account_id: int) -> TwoFactorRecord | None:
        row = self._c.execute(select(two_factor).where(two_factor.c.account_id == account_id)).first()
        if row is None:
            return None
        return TwoFactorRecord(
            account_id=row.account_id,
            sealed_secret=bytes(row.sealed_secret),
            enabled_at=row.enabled_at,
            last_step=row.last_step,
        )

    def put(self, account_id: int, sealed_secret: bytes, enabled_at: int, last_step: int | None) -> None:
        self._c.execute(delete(two_factor).where(two_factor.c.account_id == account_id))
        values = {"account_id": account_id, "sealed_secret": sealed_secret, "enabled_at": enabled_at}
        try:
            self._c.execute(insert(two_factor).values(**values, last_step=last_step))
        except IntegrityError as error:
            if is_unique_violation(error):  # another setup committed between our delete and insert
                raise Conflict("Two-factor authentication was changed at the same time. Try again.") from None
            raise

    def delete(self, account_id: int) -> bool:
        self._c.execute(delete(recovery_codes).where(recovery_codes.c.account_id == account_id))
        return self._c.execute(delete(two_factor).where(two_factor.c.account_id == account_id)).rowcount > 0

    def advance_step(self, account_id: int, step: int) -> bool:
        statement = (
            update(two_factor)
            .where(
                two_factor.c.account_id == account_id,
                or_(two_factor.c.last_step.is_(None), two_factor.c.last_step < step),
            )
            .values(last_step=step)
        )
        return self._c.execute(statement).rowcount > 0

    def replace_recovery_codes(self, account_id: int, digests: list[bytes], created_at: int) -> None:
        self._c.execute(delete(recovery_codes).where(recovery_codes.c.account_id == account_id))
        self._c.execute(
            insert(recovery_codes),
            [{"account_id": account_id, "digest": digest, "created_at": created_at} for digest in digests],
        )

    def use_recovery_code(self, account_id: int, digest: bytes, at: int) -> bool:
        statement = (
            update(recovery_codes)
            .where(
                recovery_codes.c.account_id == account_id,
                recovery_codes.c.digest == digest,
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=at)
        )
        return self._c.execute(statement).rowcount > 0

    def recovery_codes_left(self, account_id: int) -> int:
        query = (
            select(func.count())
            .select_from(recovery_codes)
            .where(recovery_codes.c.account_id == account_id, recovery_codes.c.used_at.is_(None))
        )
        return int(self._c.execute(query).scalar_one())
