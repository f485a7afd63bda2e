"""How fast scanner.dates.parse_date reads each date style (and that it reads them right).

    python bench/dates.py

For each style, formats 2,000 random dates (seed 7), parses them back and prints microseconds per
parse and how many came back equal.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.dates import format_thai_date, parse_date

BKK = ZoneInfo("Asia/Bangkok")
N = 2000


def main() -> None:
    rng = random.Random(7)
    start = datetime(2000, 1, 1)
    dates = [(start + timedelta(minutes=rng.randrange(0, 56 * 365 * 24 * 60))) for _ in range(N)]
    styles = {
        "23 มี.ค. 2567": lambda d: format_thai_date(d, "abbr"),
        "๒๓ มี.ค. ๒๕๖๗ (Thai digits)": lambda d: format_thai_date(d, "abbr", digits="thai"),
        "วันเสาร์ที่ 23 มีนาคม พ.ศ. 2567 10:30 น.": lambda d: format_thai_date(d, "full"),
        "23/03/2567": lambda d: format_thai_date(d, "numeric"),
        "23 มี.ค. 67": lambda d: format_thai_date(d, "short"),
        "23 March 2024": lambda d: d.strftime("%d %B %Y"),
        "ISO 8601": lambda d: d.replace(tzinfo=BKK).isoformat(),
        "RFC 822": lambda d: d.replace(tzinfo=BKK).strftime("%a, %d %b %Y %H:%M:%S %z"),
    }
    with_time = {"วันเสาร์ที่ 23 มีนาคม พ.ศ. 2567 10:30 น.", "ISO 8601", "RFC 822"}
    rows = []
    for name, fmt in styles.items():
        texts = [fmt(d) for d in dates]
        began = time.perf_counter()
        parsed = [parse_date(t) for t in texts]
        took = time.perf_counter() - began
        want = [(d if name in with_time else d.replace(hour=0, minute=0)).replace(tzinfo=BKK).astimezone(UTC)
                for d in dates]
        right = sum(p == w for p, w in zip(parsed, want, strict=True))
        rows.append([name, f"{took / N * 1e6:.0f}", f"{right}/{N}"])
    print(tabulate(rows, headers=["style", "µs per parse", "parsed back equal"]))


if __name__ == "__main__":
    main()
