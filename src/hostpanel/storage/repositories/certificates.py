"""Sites' certificates and AutoSSL's results (see `ports.CertificateRepository`)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from hostpanel.domain.certificates.model import AutoSslStatus, Certificate, NewCertificate, Source
from hostpanel.storage.tables import autossl_status, certificates


def _certificate(row: Any) -> Certificate:
    return Certificate(
        id=row.id,
        account_id=row.account_id,
        domain=row.domain,
        names=tuple(json.loads(row.names)),
        subject=row.subject,
        issuer=row.issuer,
        not_before=row.not_before,
        not_after=row.not_after,
        serial=row.serial,
        key_type=row.key_type,
        self_signed=bool(row.self_signed),
        source=Source(row.source),
        installed_at=row.installed_at,
        certificate_pem=row.certificate,
        cabundle_pem=row.cabundle,
        sealed_key=bytes(row.sealed_key),
    )


class SqlCertificateRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def put(self, account_id: int, new: NewCertificate) -> Certificate:
        checked = new.checked
        values = {
            "account_id": account_id, "domain": new.domain, "names": json.dumps(list(checked.names)),
            "subject": checked.subject, "issuer": checked.issuer, "not_before": checked.not_before,
            "not_after": checked.not_after, "serial": checked.serial, "key_type": checked.key_type,
            "self_signed": checked.self_signed, "source": new.source.value, "installed_at": new.installed_at,
            "certificate": checked.certificate_pem, "cabundle": checked.cabundle_pem, "sealed_key": new.sealed_key,
        }  # fmt: skip
        self.delete(account_id, new.domain)
        row = self._c.execute(insert(certificates).values(values).returning(*certificates.c)).one()
        return _certificate(row)

    def get(self, account_id: int, domain: str) -> Certificate | None:
        query = select(certificates).where(certificates.c.account_id == account_id, certificates.c.domain == domain)
        row = self._c.execute(query).first()
        return _certificate(row) if row else None

    def all(self, account_id: int) -> list[Certificate]:
        query = select(certificates).where(certificates.c.account_id == account_id).order_by(certificates.c.domain)
        return [_certificate(row) for row in self._c.execute(query)]

    def delete(self, account_id: int, domain: str) -> bool:
        query = delete(certificates).where(certificates.c.account_id == account_id, certificates.c.domain == domain)
        return bool(self._c.execute(query).rowcount)

    def record_attempt(self, account_id: int, domain: str, time: int, error: str | None) -> None:
        key = (autossl_status.c.account_id == account_id) & (autossl_status.c.domain == domain)
        values: dict[str, Any] = {"checked_at": time, "error": error}
        if error is None:
            values["succeeded_at"] = time
        if not self._c.execute(update(autossl_status).where(key).values(values)).rowcount:
            self._c.execute(insert(autossl_status).values(account_id=account_id, domain=domain, **values))

    def sites(self) -> set[str]:
        return {str(row.domain) for row in self._c.execute(select(certificates.c.domain))}

    def statuses(self, account_id: int) -> list[AutoSslStatus]:
        query = (
            select(autossl_status).where(autossl_status.c.account_id == account_id).order_by(autossl_status.c.domain)
        )
        return [AutoSslStatus(r.domain, r.checked_at, r.error, r.succeeded_at) for r in self._c.execute(query)]
