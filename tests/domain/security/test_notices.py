"""Owner notices delivered by SMTP to a real local server: leaks, expiring tokens, use from a new address."""

from __future__ import annotations

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.smtp import SmtpNotifier
from tests.factories import FakeClock, Inbox, flush_usage, make_account, make_token
from tests.processes import free_port


def test_smtp_notifier_delivers_a_plain_message(smtp_inbox: Inbox) -> None:
    SmtpNotifier(smtp_inbox.url, "panel@host.test").send("alice@alice.test", "Subject line", "Body text\n")
    [message] = smtp_inbox.wait_for(1)
    assert (message["From"], message["To"], message["Subject"]) == (
        "panel@host.test",
        "alice@alice.test",
        "Subject line",
    )
    assert message.get_content().strip() == "Body text"


def test_a_leaked_token_revoked_by_scan_mails_its_owner_without_the_secret(
    mailing: Container, smtp_inbox: Inbox
) -> None:
    alice = make_account(mailing, "alice", email="alice@alice.test")
    leaked = make_token(mailing, alice, "deploy").secret
    with mailing.uow() as uow:
        leaks = mailing.leaks(uow)
        [sighting] = leaks.scan(f"API_KEY={leaked}\n")
        assert sighting.live and sighting.token is not None and sighting.token.name == "deploy"
        assert leaks.revoke(sighting, "found in backup.sql", "admin")
        assert smtp_inbox.messages == []  # nothing goes out before the revocation is committed
        uow.commit()
    [message] = smtp_inbox.wait_for(1)
    assert message["To"] == "alice@alice.test" and "deploy" in message["Subject"]
    assert "found in backup.sql" in message.get_content() and leaked not in message.as_string()


def test_expiring_tokens_are_announced_once_per_token(mailing: Container, smtp_inbox: Inbox, clock: FakeClock) -> None:
    alice = make_account(mailing, "alice", email="alice@alice.test")
    now = int(clock.now())
    make_token(mailing, alice, "soon", expires_at=now + 3 * 86400)
    make_token(mailing, alice, "later", expires_at=now + 30 * 86400)
    make_token(mailing, alice, "forever")
    mute = make_account(mailing, "bob")  # no contact address: marked as told, nothing sent
    make_token(mailing, mute, "soon", expires_at=now + 86400)
    with mailing.uow() as uow:
        told = mailing.expiry_notices(uow).send(7)
        uow.commit()
    assert told == {"alice": ["soon"], "bob": ["soon"]}
    [message] = smtp_inbox.wait_for(1)
    assert message["Subject"] == "1 API token expires soon" and "soon" in message.get_content()
    with mailing.uow() as uow:
        assert mailing.expiry_notices(uow).send(7) == {}
        uow.commit()
    clock.advance(25 * 86400)
    with mailing.uow() as uow:
        assert mailing.expiry_notices(uow).send(7) == {"alice": ["later"]}
        uow.commit()
    assert len(smtp_inbox.wait_for(2)) == 2


def test_new_address_notices_go_only_to_owners_who_asked(mailing: Container, smtp_inbox: Inbox) -> None:
    alice = make_account(mailing, "alice", email="alice@alice.test")
    bob = make_account(mailing, "bob", email="bob@bob.test")
    with mailing.uow() as uow:
        uow.accounts.set_notify_new_ip(alice.id, True)
        uow.commit()
    for account in (alice, bob):
        with mailing.uow() as uow:
            refreshed = uow.accounts.get(account.id)
        assert refreshed is not None
        issued = make_token(mailing, refreshed, "ci")
        for ip in ("203.0.113.5", "203.0.113.5", "198.51.100.9"):
            mailing.usage.note(Principal(refreshed, AuthMethod.TOKEN, issued.token, ip))
    flush_usage(mailing)
    messages = smtp_inbox.wait_for(2)
    assert sorted(m["Subject"] for m in messages) == ["API token “ci” was used from a new address"] * 2
    assert {m["To"] for m in messages} == {"alice@alice.test"}
    assert {ip for m in messages for ip in ("203.0.113.5", "198.51.100.9") if ip in m.get_content()} == {
        "203.0.113.5",
        "198.51.100.9",
    }
    mailing.usage.note(Principal(alice, AuthMethod.TOKEN, issued.token, "203.0.113.5"))
    flush_usage(mailing)
    assert len(smtp_inbox.wait_for(3, timeout=0.5)) == 2  # a known address is not news


def test_an_unreachable_mail_server_never_undoes_the_revocation(settings: Settings, clock: FakeClock) -> None:
    built = Container(settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"}), clock)
    try:
        alice = make_account(built, "alice", email="alice@alice.test")
        leaked = make_token(built, alice, "deploy").secret
        with built.uow() as uow:
            assert built.leaks(uow).revoke_all_in(leaked, "a test", "admin") == 1
            uow.commit()
        with built.uow(write=False) as uow:
            assert uow.tokens.get_by_name(alice.id, "deploy") is None
    finally:
        built.close()
