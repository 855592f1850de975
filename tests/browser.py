"""Headless Chromium for the page tests: Debian's `chromium` driven by Playwright (no browser is downloaded).

A visit fails the test on any console error, uncaught page error, failed load, or request that leaves the machine
(anything but file:, data: and blob:)."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import sync_playwright

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
# As the machine's notes advise for a closed network: no background connections, no component updates.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps"]  # fmt: skip


@dataclass
class Visit:
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # requests that would leave the machine
    requests: int = 0
    charts: dict[str, int] = field(default_factory=dict)  # plotly chart id → data points drawn


@contextmanager
def chromium() -> Iterator[Any]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def visit(browser: Any, page_file: Path, screenshot: Path | None = None) -> Visit:
    """Open a local page, wait until nothing loads any more, and report what happened."""
    result = Visit()
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def on_request(request: Any) -> None:
        result.requests += 1
        if not request.url.startswith(LOCAL_SCHEMES):
            result.outside.append(request.url)

    page.on("console", lambda message: result.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: result.errors.append(str(error)))
    page.on("requestfailed", lambda request: result.errors.append(f"failed to load {request.url}"))
    page.on("request", on_request)
    page.goto(page_file.resolve().as_uri())
    page.wait_for_load_state("networkidle")
    result.charts = dict(
        page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .filter(d => d.querySelector('svg.main-svg'))
        .map(d => [d.id, (d.data || []).reduce((n, t) => n + ((t.x || []).length), 0)])""")
    )
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return result
