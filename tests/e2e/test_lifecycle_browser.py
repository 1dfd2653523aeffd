"""The token lifecycle in a real browser against `hostpanel serve`: rotate a token with a grace period (the new
secret shown once, both secrets working), see it rotating and the old secret's last use in the list, and the token's
page with its usage chart, modules and addresses; an imported cPanel token invited to rotate.

Screenshots 40-43 (under test-output/screenshots, and docs/screenshots with HOSTPANEL_DOCS_SCREENSHOTS=1); every page
passes the accessibility checks and raises no CSP report (the chart is server-rendered SVG, no script).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser

from hostpanel.domain.tokens import secret
from tests.e2e.browser import Visit, sign_in
from tests.factories import PASSWORD, cpanel_entry, cpanel_token, write_cpanel_store
from tests.processes import environment, hostpanel, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    root = tmp_path_factory.mktemp("lifecycle")
    env = environment(
        root / "var", HOSTPANEL_LAST_USED_FLUSH_SECONDS="0.3", HOSTPANEL_LOGIN_FAILURE_DELAY_SECONDS="0.1"
    )
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "alice", "--password-stdin", "--domain", "alice.test", stdin=PASSWORD)
    deploy = hostpanel(env, "token", "create", "alice", "deploy", "--scope", "tokens:read", "--json").stdout
    hostpanel(env, "token", "create", "alice", "release-step", "--max-uses", "3")
    legacy = cpanel_token()
    store = root / "cpanel" / "alice.json"
    write_cpanel_store(store, {secret.legacy_digest(legacy): cpanel_entry("from-cpanel", int(time.time()) - 86400)})
    hostpanel(env, "import", "cpanel-tokens", str(store))
    with running_server(env, log=root / "serve.log") as base:
        yield base, _token(deploy), legacy


def _token(output: str) -> str:
    return str(json.loads(output)["token"])


def calls(base: str, token: str, function: str = "Tokens/list", times: int = 1) -> list[int]:
    with httpx.Client(verify=False, timeout=10) as client:
        headers = {"Authorization": f"cpanel alice:{token}"}
        return [client.get(f"{base}/execute/{function}", headers=headers).status_code for _ in range(times)]


def test_rotate_a_token_and_read_its_usage_in_the_browser(server: tuple[str, str, str], browser: Browser) -> None:
    base, old, legacy = server
    assert calls(base, legacy) == [200]  # the 32-character cPanel token works as imported
    assert calls(base, old, times=3) == [200, 200, 200]
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 860})
    visit = Visit(context.new_page())
    page = visit.page
    sign_in(visit, base, PASSWORD)

    row = page.get_by_role("row").filter(has_text="deploy")
    row.get_by_role("link", name="Rotate").click()
    page.get_by_label("1 hour").check()
    visit.check("40-rotate-token")
    page.get_by_role("button", name="Rotate token").click()
    assert "You will not see it again" in page.get_by_role("alert").inner_text()
    new = page.get_by_label("The token's new secret").input_value()
    assert new.startswith("hpat_") and new != old
    visit.check("41-token-rotated")

    # Both secrets work in the grace period; the old one's use shows once the batched use is written.
    assert calls(base, old, times=2) == [200, 200]
    assert calls(base, new, times=2) + calls(base, new, "Features/list_features") == [200, 200, 200]
    page.get_by_role("link", name="Done: back to API Tokens").click()
    deploy = page.get_by_role("row").filter(has_text="deploy")
    assert "rotating, old secret valid until" in deploy.inner_text()
    assert "used 0 of 3" in page.get_by_role("row").filter(has_text="release-step").inner_text()
    assert "imported (rotate" in page.get_by_role("row").filter(has_text="from-cpanel").inner_text()
    visit.check("42-tokens-lifecycle")

    deploy.get_by_role("link", name="deploy", exact=True).click()
    for _ in range(40):
        if "last used" in page.locator("dl.facts").inner_text() and "Features" in page.locator("main").inner_text():
            break
        time.sleep(0.25)
        page.reload()
    facts = page.locator("dl.facts").inner_text()
    assert "valid until" in facts and "last used" in facts
    assert page.locator("svg rect.chart-bar").count() == 1  # every call was today
    assert "127.0.0.1" in page.get_by_role("region", name="Recent client addresses").inner_text()
    visit.check("43-token-usage")
    context.close()
