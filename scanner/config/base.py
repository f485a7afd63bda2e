"""What every section of ``sources.yaml`` shares: the strict base model, ids, intervals, sizes and URLs."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from scanner.normalize import http_url

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# The built-in source of what partners submit in the workspace (``scanner.submit``): never in
# sources.yaml, never fetched on a schedule, so no configured source may take its id.
SUBMISSIONS_SOURCE = "submissions"
INTERVAL_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def parse_interval(value: str | int | float) -> float:
    """``"6h"`` → 21600.0 seconds. Raises ``ValueError`` with a hint on anything else."""
    if isinstance(value, bool):
        raise ValueError("an interval is a number with a unit, such as 30m, 6h or 1d")
    if isinstance(value, (int, float)):
        raise ValueError(f"{value!r} has no unit: write it as {value}s, {value}m, {value}h, {value}d or {value}w")
    m = INTERVAL_RE.match(str(value))
    if not m:
        raise ValueError(
            f"{value!r} is not an interval: write a number and one unit s, m, h, d or w (for example 30m, 6h, 1d)"
        )
    seconds = float(m.group(1)) * UNIT_SECONDS[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    return seconds


def parse_size(value: str | int) -> int:
    """``"10MB"`` or ``10000000`` → bytes."""
    if isinstance(value, bool):
        raise ValueError("a size is a number of bytes, or a number with KB, MB or GB")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("must be more than zero bytes")
        return value
    m = SIZE_RE.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a size: write bytes, or a number with KB, MB or GB (for example 20MB)")
    size = int(float(m.group(1)) * SIZE_UNITS[(m.group(2) or "b").lower()])
    if size <= 0:
        raise ValueError("must be more than zero bytes")
    return size


def check_http_url(value: str) -> str:
    if http_url(value) is None:
        raise ValueError(f"{value!r} is not a valid http(s) URL: it must start with http:// or https://")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)
