"""Accessibility without a browser: the stylesheet's colour pairs meet WCAG AA contrast, and every control on every
page is labelled. (The browser tests run axe-core on the live pages as well.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.principal import Principal
from tests.factories import Browser, make_token

CSS = (Path(__file__).parents[2] / "src" / "hostpanel" / "web" / "static" / "app.css").read_text()
VARIABLES = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6});", CSS))

# (text, background, minimum ratio): 4.5 for text, 3 for large text and for borders that mark a control.
PAIRS = [
    ("text", "background", 4.5),
    ("text", "surface", 4.5),
    ("muted", "surface", 4.5),
    ("muted", "background", 4.5),
    ("primary", "surface", 4.5),
    ("primary", "background", 4.5),
    ("primary-text", "primary", 4.5),
    ("danger-text", "danger", 4.5),
    ("danger", "surface", 4.5),
    ("ok-text", "ok-bg", 4.5),
    ("ok-text", "surface", 4.5),
    ("soon-text", "soon-bg", 4.5),
    ("bad-text", "bad-bg", 4.5),
    ("notice-text", "notice-bg", 4.5),
    ("warning-text", "warning-bg", 4.5),
    ("header-text", "header-bg", 4.5),
    ("focus", "surface", 3.0),
    ("focus", "background", 3.0),
]


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_formula_agrees_with_wcags_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(("text", "background", "minimum"), PAIRS)
def test_colour_pairs_meet_wcag_aa(text: str, background: str, minimum: float) -> None:
    ratio = contrast(VARIABLES[text], VARIABLES[background])
    assert ratio >= minimum, f"{text} on {background}: {ratio:.2f} < {minimum}"


class Controls(HTMLParser):
    """Collects a page's form controls and which of them a label names, by `for` or by wrapping them."""

    def __init__(self) -> None:
        super().__init__()
        self.labelled: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "label":
            self.label_depth += 1
            if values.get("for"):
                self.labelled.add(values["for"] or "")
        if tag in ("input", "select", "textarea") and values.get("type") != "hidden":
            self.controls.append({**values, "wrapped": "1" if self.label_depth else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1


ARCHIVE = "backup-1.15.2027_08-00-00_alice.tar.gz"
PAGES = [
    "/login",
    "/security/tokens",
    "/security/tokens/new",
    "/security/tokens/revoke?name=one",
    "/security/tokens/expired",
    "/security/two-factor",
    "/security/two-factor/setup",
    "/security/password",
    "/security/activity",
    "/security/confirm",
    "/files",
    "/files?dir=public_html&hidden=1",
    "/files/edit?path=public_html/index.html",
    "/files/delete?path=public_html/index.html",
    "/files/empty-trash",
    "/email/accounts",
    "/email/accounts/new",
    "/email/accounts/manage?address=info%40alice.test",
    "/email/accounts/delete?address=info%40alice.test",
    "/email/forwarders",
    "/email/forwarders/new",
    "/backups",
    f"/backups/restore?file={ARCHIVE}",
    "/domains/zone-editor",
    "/domains/zone-editor?zone=alice.test",
    "/domains/zone-editor/edit?zone=alice.test&line=14",
]


def test_every_control_on_every_page_has_a_label(browser: Browser, container: Container, alice: Account) -> None:
    make_token(container, alice, "one")
    home = container.homes.path_for(alice.username)
    (home / "public_html" / "index.html").write_text("<h1>site</h1>")
    (home / ARCHIVE).write_bytes(b"")
    with container.uow() as uow:
        mail = container.mail(Principal.admin(alice), uow)
        mail.add_mailbox("info", "alice.test", "Str0ng-Mailbox-Pass!", 100)
        mail.add_forwarders("sales", "alice.test", ["boss@example.net"])
        uow.commit()
    pages = {"/login": browser.get("/login").text}
    browser.sign_in()
    for path in PAGES[1:]:
        response = browser.get(path)
        assert response.status_code == 200, path
        pages[path] = response.text
    checked = 0
    for path, html in pages.items():
        parser = Controls()
        parser.feed(html)
        checked += len(parser.controls)
        for control in parser.controls:
            named = control.get("aria-label") or control.get("wrapped") or control.get("id") in parser.labelled
            assert named, (path, control)
    assert checked > 60  # the pages were really rendered with their forms
