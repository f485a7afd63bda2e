"""How well and how fast full-text extraction works on the bundled pages.

    python bench/fulltext.py

Prints one row per page: extraction time, text length, expected snippets found / unwanted snippets
absent (trafilatura's annotations for tests/data/html), and the publication time found (UTC;
a page with only a day gives midnight Asia/Bangkok, i.e. 17:00 UTC the day before). Thai pages
(tests/data/listings/article-*.html) are checked against their thaigov source text.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.http import decode_body  # noqa: E402
from scanner.sources.fulltext import extract_html  # noqa: E402

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def main() -> None:
    rows = []
    times = []
    cases = json.loads((ROOT / "tests/data/html/expected.json").read_text(encoding="utf-8"))
    for case in cases:
        html = decode_body((ROOT / "tests/data/html" / case["file"]).read_bytes())
        start = time.perf_counter()
        page = extract_html(html, url=case["url"], now=NOW)
        took = time.perf_counter() - start
        times.append(took)
        found = sum(s in page["text"] for s in case["expected_with"])
        absent = sum(s not in page["text"] for s in case["expected_without"])
        rows.append([case["file"][:38], f"{took * 1000:.0f}", len(page["text"]),
                     f"{found}/{len(case['expected_with'])}", f"{absent}/{len(case['expected_without'])}",
                     page["date"].isoformat()[:16] if page["date"] else "-", case.get("date") or "-"])
    thaigov = {}
    for line in (ROOT / "demo/data/thaigov_sample.jsonl").read_text(encoding="utf-8").split("\n"):
        if line.strip():
            row = json.loads(line)
            thaigov[row["id"]] = row
    for path in sorted((ROOT / "tests/data/listings").glob("article-*.html")):
        source = thaigov["thaigov-" + path.stem.split("-")[1]]
        html = path.read_text(encoding="utf-8")
        start = time.perf_counter()
        page = extract_html(html, url="http://example.invalid/" + path.name, now=NOW)
        took = time.perf_counter() - start
        times.append(took)
        text = " ".join(page["text"].split())
        words = source["body"].split()
        found = sum(" ".join(w) in text for w in (words[:6], words[len(words) // 2:len(words) // 2 + 6], words[-6:]))
        absent = sum(s not in text for s in ("สงวนลิขสิทธิ์", "ข่าวที่เกี่ยวข้อง", "หน้าแรก"))
        rows.append([path.name, f"{took * 1000:.0f}", len(page["text"]), f"{found}/3", f"{absent}/3",
                     page["date"].isoformat()[:16] if page["date"] else "-", source["published"]])
    print(tabulate(rows, headers=["page", "ms", "chars", "expected in", "unwanted out", "published (UTC)",
                                  "date expected"]))
    print(f"\n{len(rows)} pages, median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms per page")


if __name__ == "__main__":
    main()
