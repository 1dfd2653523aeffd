"""Token oversight: every token root oversees, filtered, revoked with a notice to the owner."""

from __future__ import annotations

from starlette.testclient import TestClient

from hostpanel.app import create_whm_app
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.permissions import Permissions, Scope
from hostpanel.domain.tokens.restrictions import Restrictions
from tests.factories import START, Inbox, make_account, make_token, make_whm_token
from tests.modules.whm.conftest import Whm


def test_list_filter_and_revoke_with_a_notice(mailing: Container, smtp_inbox: Inbox, root: Account) -> None:
    container = mailing
    alice = make_account(container, "alice", email="alice@alice.test")
    make_token(container, alice, "wide")
    make_token(container, alice, "narrow", Permissions.of([Scope.parse("tokens:read")]), int(START) + 86400,
               Restrictions.parse(whitelist_ips=["192.0.2.1"]))  # fmt: skip
    make_whm_token(container, root, "roots")
    with TestClient(create_whm_app(container), base_url="https://testserver") as client:
        as_root = Whm(client, "root", make_whm_token(container, root, "oversee").secret)
        listed = as_root("hp_token_list")["data"]["tokens"]
        assert {(t["user"], t["name"], t["service"]) for t in listed} >= {
            ("alice", "wide", "cpanel"), ("alice", "narrow", "cpanel"), ("root", "roots", "whm")}  # fmt: skip
        risky = as_root("hp_token_list", user="alice", full_access="1", no_expiry="1", no_allowlist="1")
        assert [t["name"] for t in risky["data"]["tokens"]] == ["wide"]
        as_root("hp_token_revoke", user="alice", token_name="wide")
        revoked = as_root("hp_token_revoke_all", user="alice")["data"]["revoked"]
        assert revoked == ["narrow"]
        assert as_root("hp_token_list", user="alice")["data"]["tokens"] == []
    mails = smtp_inbox.wait_for(2)
    assert len(mails) == 2 and all("revoked by your hosting administrator" in m["Subject"] for m in mails)
    with container.uow(write=False) as uow:
        trail = uow.audit.query(AuditQuery(account_id=alice.id, actions=("whm:token:revoke",)))
    assert {e.target for e in trail} == {"wide", "narrow"}
