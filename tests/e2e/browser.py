"""Debian's Chromium under Playwright (installed with apt when missing, never a downloaded browser build), and a tab
that checks every page it sees: a screenshot, labels, axe-core's WCAG 2 A/AA rules, no CSP report."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
# Every control a person can fill in must have a name a screen reader can read.
UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => el.type !== "hidden")
  .filter((el) => !(el.labels && el.labels.length))
  .filter((el) => !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
  .map((el) => el.outerHTML)"""

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def ensure_chromium() -> Path:
    """Install Debian's `chromium` package if it is missing (root only); fail with the fix otherwise."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, timeout=900)
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


class Visit:
    """One browser tab with the checks every page must pass."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.axe = Axe()
        self.csp_reports: list[str] = []
        self.seen: list[str] = []
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.csp_reports.append(message.text)

    def check(self, name: str) -> None:
        self.seen.append(name)
        self.page.wait_for_load_state("load")
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        if os.environ.get("HOSTPANEL_DOCS_SCREENSHOTS"):
            DOCS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS / f"{name}.png")
        assert self.page.evaluate(UNLABELLED) == [], name
        results = self.axe.run(self.page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}})
        violations = [(v["id"], [n["html"] for n in v["nodes"]][:3]) for v in results.response["violations"]]
        assert violations == [], (name, violations)
        assert self.csp_reports == [], (name, self.csp_reports)


def sign_in(visit: Visit, base: str, password: str, username: str = "alice") -> None:
    """Sign in with the password form of the interface at `base`."""
    page = visit.page
    page.goto(base + "/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
