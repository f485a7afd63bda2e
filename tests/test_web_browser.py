"""The workspace as an analyst uses it, in headless Chromium against a live server on 127.0.0.1:
log in, open this week, open a signal, mark it watch with a note, rate it, merge two signals,
submit a page (served by a second local server), log out. No console errors, and no request of the
browser leaves the workspace."""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_digest_browser import CHROMIUM, open_browser, requested_urls
from tests.test_digest_email import free_port

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium "
                                                     "(apt-get install chromium chromium-driver)"),
]




@pytest.fixture
def live(web_base: Path, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    import uvicorn

    from tests.web_support import make_workspace

    ws = make_workspace(web_base, tmp_path)
    settings = ws.config.settings.model_copy(update={"allow_hosts": ["127.0.0.1"], "per_host_delay": 0.0,
                                                     "timeout": 5.0})  # the submitted page is on 127.0.0.1 too
    ws.app.state.config = ws.config.model_copy(update={"settings": settings})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(ws.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}", ws
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def submit(driver: Any, action: str) -> None:
    """Submit the form with its button, as a click does (validation, the button's name), and wait
    until the next page has loaded: the old document carries a mark the new one lacks."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    button = driver.find_element(By.CSS_SELECTOR, f'form[action$="{action}"] button[type="submit"]')
    driver.execute_script("window.__before_submit = true; arguments[0].form.requestSubmit(arguments[0]);", button)

    def loaded(d: Any) -> bool:
        try:
            return bool(d.execute_script(
                "return window.__before_submit === undefined && document.readyState === 'complete'"))
        except WebDriverException:  # between the two documents
            return False

    WebDriverWait(driver, 30).until(loaded)


ARTICLE = """<!DOCTYPE html><html lang="th"><head><meta charset="utf-8"><title>ThaID ขยายบริการ</title></head>
<body><article><h1>ThaID ขยายบริการทุกหน่วยงาน</h1>
<p>กรมการปกครองประกาศขยายบริการแอปพลิเคชัน ThaID ให้ประชาชนยืนยันตัวตนทางดิจิทัลได้ที่หน่วยงานรัฐทุกแห่ง
ตั้งแต่เดือนหน้า โดยไม่ต้องใช้สำเนาบัตรประชาชนอีกต่อไป ซึ่งจะช่วยลดเอกสารและเวลาการติดต่อราชการ</p>
<p>ระบบนี้เชื่อมโยงกับบริการภาครัฐออนไลน์กว่าสองร้อยบริการ และจะเพิ่มขึ้นอีกภายในปีนี้</p></article></body></html>"""


def test_an_analysts_session_in_chromium(live: tuple[str, Any], tmp_path: Path, httpserver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from tests.web_support import PASSWORDS

    url, ws = live
    httpserver.expect_request("/news/thaid").respond_with_data(ARTICLE, content_type="text/html; charset=utf-8")
    page = httpserver.url_for("/news/thaid")
    with ws.store() as store:
        first, second = (int(r[0]) for r in store.db.execute(
            "SELECT id FROM signals WHERE status = 'active' ORDER BY id LIMIT 2"))
    driver = open_browser(tmp_path / "profile")
    errors: list[str] = []
    urls: list[str] = []
    try:
        driver.get("about:blank")
        driver.get_log("performance")  # drop the browser's start page's own requests
        driver.get(f"{url}/")  # not signed in: the login form
        assert "/login" in driver.current_url
        driver.find_element(By.NAME, "username").send_keys("curator")
        driver.find_element(By.NAME, "password").send_keys(PASSWORDS["curator"])
        submit(driver, "/login")
        assert "/login" not in driver.current_url
        assert driver.find_elements(By.CSS_SELECTOR, 'form[action="/logout"]')  # this week, signed in
        driver.get(f"{url}/signals/{first}")
        driver.find_element(By.CSS_SELECTOR, 'input[name="verdict"][value="watch"]').click()
        driver.find_element(By.CSS_SELECTOR, 'form[action$="/review"] textarea[name="note"]').send_keys(
            "ถาม สพร. เรื่องนี้ (ask DGA)")
        submit(driver, "/review")
        assert "ถาม สพร. เรื่องนี้" in driver.page_source
        Select(driver.find_element(By.NAME, "novelty")).select_by_visible_text("4")
        Select(driver.find_element(By.NAME, "horizon")).select_by_value("H2")
        Select(driver.find_element(By.NAME, "impact")).select_by_visible_text("3")
        submit(driver, "/rate")
        shots = save_screens(driver, f"{url}/signals/{first}", tmp_path)
        driver.get(f"{url}/signals/{second}")
        Select(driver.find_element(By.NAME, "into")).select_by_value(str(first))
        submit(driver, "/merge")
        driver.get(f"{url}/submit")
        driver.find_element(By.NAME, "url").send_keys(page)
        driver.find_element(By.NAME, "why").send_keys("ThaID ใช้ได้ทุกหน่วยงาน: the digital ID reaches every office")
        submit(driver, "/submit")
        submit(driver, "/logout")
        driver.get(f"{url}/signals/{first}")
        assert "/login" in driver.current_url  # signed out
        errors = console_errors(driver)
        urls = requested_urls(driver)
    finally:
        driver.quit()
    assert errors == [], errors
    assert urls and all(u.startswith((url, "data:", "about:")) for u in urls), urls
    with ws.store() as store:
        assert store.query("SELECT verdict, by, note FROM reviews WHERE signal_id = ?", [first]) == [
            {"verdict": "watch", "by": "curator", "note": "ถาม สพร. เรื่องนี้ (ask DGA)"}]
        assert store.query("SELECT novelty, horizon, impact FROM ratings WHERE signal_id = ?", [first]) == [
            {"novelty": 4, "horizon": "H2", "impact": 3}]
        assert store.query("SELECT merged_into FROM signals WHERE id = ?", [second]) == [{"merged_into": first}]
        actions = {r["action"] for r in store.query("SELECT action FROM audit WHERE by = 'curator'")}
        assert {"review", "rate", "merge"} <= actions
        (item,) = store.query("SELECT url, title, source_id FROM items WHERE source_id = 'submissions'")
        assert item["url"] == page and item["title"].startswith("ThaID")
    for p in shots:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def save_screens(driver: Any, url: str, folder: Path) -> list[Path]:
    """The signal page at desktop and phone widths (WORKSPACE_DOCS_DIR=docs refreshes the README's)."""
    out = Path(os.environ.get("WORKSPACE_DOCS_DIR") or folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, width, height in (("desktop", 1280, 1800), ("phone", 390, 1800)):
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
        driver.get("about:blank")  # the override may reload the page: let it settle on a blank one first
        driver.get(url)
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        path = out / f"workspace-signal-{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        paths.append(path)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return paths
