"""Screenshot a digest for the README: ``python docs/screenshot.py demo/out/reports/2025-W13.html``.

Writes ``docs/digest-desktop.png`` (1280 px wide, first screens) and ``docs/digest-phone.png`` (390 px).
Needs Debian's chromium and chromium-driver.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_digest_browser import capture, open_browser  # noqa: E402


def main() -> None:
    html = Path(sys.argv[1]).resolve()
    out = ROOT / "docs"
    with tempfile.TemporaryDirectory() as tmp:
        driver = open_browser(Path(tmp) / "profile")
        try:
            desktop = capture(driver, html.as_uri(), Path(tmp), "digest", 1280, max_height=2600)
            phone = capture(driver, html.as_uri(), Path(tmp), "digest", 390, max_height=1800)
            (out / "digest-desktop.png").write_bytes(desktop.read_bytes())
            (out / "digest-phone.png").write_bytes(phone.read_bytes())
        finally:
            driver.quit()
    print(f"wrote {out / 'digest-desktop.png'} and {out / 'digest-phone.png'}")


if __name__ == "__main__":
    main()
