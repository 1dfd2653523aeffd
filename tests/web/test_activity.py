"""Security → Activity: the account's own events, filtered, paged by id, exported as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.tags import AuditAction
from tests.factories import Browser, FakeClock, make_account, make_token


def record(container: Container, account: Account, n: int, **fields: str) -> None:
    with container.uow() as uow:
        log = container.audit(uow)
        for i in range(n):
            log.record(
                AuditAction.ACCOUNT_TOKEN_NEW_IP,
                actor=fields.get("actor", "token:ci"),
                account_id=account.id,
                username=account.username,
                ip=fields.get("ip", f"198.51.100.{i % 200}"),
                target=fields.get("target", "ci"),
            )
        uow.commit()


def test_filters_and_keyset_paging(browser: Browser, container: Container, alice: Account, clock: FakeClock) -> None:
    record(container, alice, 120)
    record(container, make_account(container, "bob"), 5, target="bobs-secret-thing")
    browser.sign_in()
    first = browser.get("/security/activity?action=account:token:new_ip")
    assert first.text.count("<td>account:token:new_ip</td>") == 50 and "bobs-secret-thing" not in first.text
    older = browser.get(
        first.text.split('href="/security/activity?')[-1]
        .split('"')[0]
        .replace("&amp;", "&")
        .join(["/security/activity?", ""])
    )
    assert older.text.count("<td>account:token:new_ip</td>") == 50 and "Newest" in older.text
    by_ip = browser.get("/security/activity?ip=198.51.100.7")
    assert by_ip.text.count("198.51.100.7<") == 1
    by_token = browser.get("/security/activity?token=ci&outcome=success")
    assert by_token.text.count("<td>token:ci</td>") == 50
    day = browser.get("/security/activity?since=2027-01-15&until=2027-01-15")  # the FakeClock's day
    assert "account:login:success" in day.text
    assert "No events match." in browser.get("/security/activity?until=2027-01-14").text
    bad = browser.get("/security/activity?since=yesterday&action=nope")
    assert bad.status_code == 400


def test_exports_carry_every_matching_event_and_disarm_formulas(
    browser: Browser, container: Container, alice: Account
) -> None:
    make_token(container, alice, "-1-1")
    record(container, alice, 1200, target="@SUM(1)")
    browser.sign_in()
    exported = browser.get("/security/activity.csv?action=account:token:new_ip")
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith('attachment; filename="activity-')
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 1200 and {row["target"] for row in rows} == {"'@SUM(1)"}
    created = list(csv.DictReader(io.StringIO(browser.get("/security/activity.csv?action=account:token:create").text)))
    assert created[0]["target"] == "'-1-1"
    as_json = json.loads(browser.get("/security/activity.json").text)
    assert len(as_json) == 1200 + 3 and as_json[0]["action"] == "account:login:success"
    ids = [event["id"] for event in as_json]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
