"""The playground end to end in a real headless browser: Debian's chromium driven by playwright.
Type an edit, see the parameter count and the diagram change, see an error underlined.

`.ci/run` installs chromium; where no browser can be installed the test skips and says so.
CNNDSL_SCREENSHOT=path also saves a screenshot of the page (docs/playground.png is one)."""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable

import pytest

from playground_server import playground

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SMALL = "network n : 3x32x32 =\n  3x3:16 -> gap -> fc:10\n"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no chromium to drive: install Debian's chromium package (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def expect():
    return pytest.importorskip("playwright.sync_api").expect


def diagram_text(replies: list) -> str:
    """The SVG of the last analysis the page received (the image shows it from a blob URL, which
    the page's Content-Security-Policy rightly keeps the test from fetching)."""
    ok = [r for r in replies if r.get("ok")]
    return ok[-1]["svg"] if ok else ""


def wait_for_svg(page, replies: list, holds: Callable[[str], bool], timeout_s: float = 30) -> str:
    """The SVG of the last analysis received, once `holds` is true of it: the page may show the
    new numbers before playwright has handed the test the response that carried them (under load
    it did), so the test lets playwright run its events until it has."""
    deadline = time.monotonic() + timeout_s
    while not holds(diagram_text(replies)) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return diagram_text(replies)


def test_type_an_edit_see_costs_and_diagram_change_and_an_error_underlined(browser):
    with playground() as (base, _):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        blocked = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        replies: list = []
        page.on("response", lambda r: replies.append(r.json()) if r.url.endswith("/api/analyze") else None)
        page.goto(base + "/?example=googlenet")
        expect()(page.locator("#params")).to_have_text("6,624,904 params", timeout=30_000)
        assert "inc" in wait_for_svg(page, replies, lambda svg: "inc" in svg)
        shot = os.environ.get("CNNDSL_SCREENSHOT")
        if shot:
            page.wait_for_timeout(500)  # the image decodes
            page.screenshot(path=shot)

        page.fill("#source", SMALL)
        expect()(page.locator("#params")).to_have_text("618 params")
        first_svg = wait_for_svg(page, replies, lambda svg: bool(svg) and "inc" not in svg)
        assert first_svg and "inc" not in first_svg
        first_src = page.get_attribute("#svg", "src")

        at = SMALL.index("16") + 2  # type a 0 after `3x3:16`, key by key: 160 filters
        page.evaluate(f"document.getElementById('source').setSelectionRange({at}, {at})")
        page.focus("#source")
        page.keyboard.type("0")
        expect()(page.locator("#params")).to_have_text("6,090 params")
        assert page.get_attribute("#svg", "src") != first_src
        svg = wait_for_svg(page, replies, lambda svg: "160" in svg)
        assert svg != first_svg and "160" in svg

        page.keyboard.press("End")
        page.keyboard.type(" -> relu2")
        expect()(page.locator("mark.err")).to_have_text("relu2")
        assert "playground.arch:2:" in page.text_content("#errors") and "relu2" in page.text_content("#errors")
        expect()(page.locator("#status")).to_have_text("1 error")
        page.keyboard.press("Backspace")  # relu: right again
        expect()(page.locator("#status")).to_have_text("ok")
        expect()(page.locator("mark.err")).to_have_count(0)
        assert blocked == []  # the page itself keeps to its Content-Security-Policy
