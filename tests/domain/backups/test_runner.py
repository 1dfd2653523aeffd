"""The backup runner's ending: a notice to the address the caller gave, whichever way the job ended."""

from __future__ import annotations

import os

from hostpanel.container import Container
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.backups.model import BackupStatus
from hostpanel.domain.principal import Principal
from tests.factories import Inbox, make_account


def test_a_failed_backup_mails_why_and_leaves_no_archive(mailing: Container, smtp_inbox: Inbox) -> None:
    alice = make_account(mailing)
    home = mailing.homes.path_for("alice")
    (home / "public_html" / "index.html").write_text("<h1>site</h1>")
    with mailing.uow() as uow:
        prepared = mailing.backups(Principal.admin(alice), uow).start(notify="ops@example.com")
        uow.commit()
    job = mailing.backup_runner.run(prepared, cancelled=lambda: True)
    assert job.status == BackupStatus.FAILED and not (home / job.file).exists()
    [message] = smtp_inbox.wait_for(1)
    assert (message["To"], message["Subject"]) == ("ops@example.com", f"Backup {job.file} failed")
    assert message.get_content().rstrip() == f"The backup {job.file} failed: {job.error}"


def test_without_an_address_nothing_is_mailed(mailing: Container, smtp_inbox: Inbox) -> None:
    alice = make_account(mailing, email="owner@alice.test")
    with mailing.uow() as uow:
        prepared = mailing.backups(Principal.admin(alice), uow).start(include_home=False)
        uow.commit()
    assert mailing.backup_runner.run(prepared).status == BackupStatus.COMPLETE
    assert smtp_inbox.wait_for(1, timeout=1) == []


def test_what_a_backup_left_out_is_told_and_recorded(mailing: Container, smtp_inbox: Inbox) -> None:
    alice = make_account(mailing)
    home = mailing.homes.path_for("alice")
    os.mkfifo(home / "tmp" / "pipe")  # a FIFO holds no data to back up
    (home / "public_html" / "index.html").write_text("<h1>site</h1>")
    with mailing.uow() as uow:
        prepared = mailing.backups(Principal.admin(alice), uow).start(notify="ops@example.com")
        uow.commit()
    job = mailing.backup_runner.run(prepared)
    assert job.status == BackupStatus.COMPLETE
    [message] = smtp_inbox.wait_for(1)
    assert "It left out 1 entries that cannot be backed up" in message.get_content()
    with mailing.uow(write=False) as uow:
        [finished] = uow.audit.query(AuditQuery(actions=("account:backup:finish", "admin:backup:finish")))
    assert finished.details["skipped"] == 1
