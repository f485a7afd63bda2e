"""The HTML digest as a reader sees it: headless Chromium opens it, nothing errors, nothing loads
from anywhere else, and it is screenshotted at desktop and phone widths."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from scanner.clock import as_of_datetime
from scanner.digest import write_digest
from scanner.store import Store
from scanner.store.reviews import add_review
from tests import digest_fixtures as fx

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium "
                                                     "(apt-get install chromium chromium-driver)"),
]

WIDTHS = {"desktop": 1280, "phone": 390}


def open_browser(user_data: Path) -> Any:
    """Headless Chromium that logs console messages and every network request."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                f"--user-data-dir={user_data}", "--window-size=1280,900", "--hide-scrollbars"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver_path = CHROMEDRIVER if CHROMEDRIVER.exists() else Path(shutil.which("chromedriver") or "chromedriver")
    return webdriver.Chrome(options=opts, service=Service(str(driver_path)))


def capture(driver: Any, url: str, out: Path, name: str, width: int, max_height: int | None = None) -> Path:
    """Load ``url`` at ``width`` CSS pixels (phone widths emulate a mobile device) and save a full-page PNG."""
    mobile = width < 600
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 900, "deviceScaleFactor": 2 if mobile else 1, "mobile": mobile})
    driver.get("about:blank")
    driver.get_log("performance")  # drop the start page's own requests
    driver.get(url)
    height = int(driver.execute_script("return Math.ceil(document.documentElement.scrollHeight)"))
    if max_height:
        height = min(height, max_height)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    path = out / f"{name}-{width}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def requested_urls(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def build_html(folder: Path, hostile: bool) -> Path:
    """The 2025-W12 digest of the real Thai sample, with two analysts' reviews (and hostile items)."""
    config = fx.write_config(folder)
    store = Store.open(folder / "signals.db")
    info = fx.fill_history(store, fx.load_thaigov(), "2025-W12")
    if hostile:
        fx.add_hostile_item(store, "2025-W12")
    at = as_of_datetime("2025-03-25")
    add_review(store, info["signals"]["tangrat"], "watch", "somchai", at,
               "ทางรัฐ: ask DGA for usage figures by province")
    add_review(store, info["signals"]["ai"], "keep", "malee", at, "Link to the UNESCO AI ethics forum in June")
    result = write_digest(config, store, "2025-W12", as_of_datetime("2025-04-01"))
    store.close()
    return result.paths[0]


@pytest.fixture(scope="module")
def digest_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_html(tmp_path_factory.mktemp("browser"), hostile=True)


def test_digest_opens_cleanly_offline_and_is_screenshotted(digest_html: Path, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    driver = open_browser(tmp_path / "profile")
    try:
        url = digest_html.as_uri()
        paths, urls, errors = [], [], []
        for width in WIDTHS.values():
            paths.append(capture(driver, url, shots, "digest", width))
            urls += requested_urls(driver)
            errors += [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        # The page really rendered: title, Thai headline, the charts and every signal anchor.
        assert driver.title.startswith("Horizon scan: Thai digital government · 2025-W12")
        assert driver.find_element("css selector", "#headline p").text.startswith("In 2025-W12 (17–23 Mar 2025)")
        assert len(driver.find_elements("css selector", "svg.chart")) == 3
        assert driver.execute_script("return document.querySelectorAll('script').length") == 0
        phone_width = driver.execute_script("return document.documentElement.scrollWidth")
        # Printable: Chromium's own "Save as PDF" gives a multi-page A4 document.
        pdf = base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {
            "paperWidth": 8.27, "paperHeight": 11.69, "printBackground": False})["data"])
        (shots / "digest.pdf").write_bytes(pdf)
    finally:
        driver.quit()
    assert errors == []
    assert urls and all(u == url or u.startswith(("data:", "about:")) for u in urls), urls
    assert phone_width <= WIDTHS["phone"], "the phone layout scrolls sideways"
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pdf.startswith(b"%PDF-") and pages >= 3, pages
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert p.stat().st_size > 20_000
    docs = os.environ.get("DIGEST_DOCS_DIR")  # e.g. DIGEST_DOCS_DIR=docs to refresh the README screenshots
    if docs:
        (tmp_path / "clean").mkdir()
        clean = build_html(tmp_path / "clean", hostile=False)
        save_docs_screenshots(clean.as_uri(), Path(docs), tmp_path / "profile-docs")


def save_docs_screenshots(url: str, docs: Path, profile: Path) -> None:
    docs.mkdir(parents=True, exist_ok=True)
    driver = open_browser(profile)
    try:
        for name, width, height in (("desktop", 1280, 2300), ("phone", 390, 2000)):
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
            driver.get(url)
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
            (docs / f"digest-{name}.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        driver.quit()


def test_the_checks_catch_outside_requests_and_console_errors(tmp_path: Path) -> None:
    """The same checks fail on a page that loads an image from elsewhere and logs an error."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/pixel.png">'
                    '<script>console.error("boom")</script></body></html>', encoding="utf-8")
    driver = open_browser(tmp_path / "profile")
    try:
        capture(driver, page.as_uri(), tmp_path, "bad", 800)
        urls = requested_urls(driver)
        errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    assert "http://127.0.0.1:9/pixel.png" in urls
    assert any('"boom"' in m for m in errors)
