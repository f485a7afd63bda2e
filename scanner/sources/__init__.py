"""Source kinds. Each module has ``fetch(source, ctx) -> SourceFetch`` and raises ``FetchError`` on failure.

Adding a kind: a module here, a pydantic model in ``config.py``, one branch in ``scanner.collect.fetch_kind``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from scanner.config import Config
from scanner.http import HttpClient
from scanner.models import KnownItem, SourceState


@dataclass
class FetchContext:
    """What a source kind may use while fetching. Built by ``scanner.collect`` for each source."""

    http: HttpClient
    config: Config
    now: datetime
    state: SourceState
    # Looks up a stored item by URL (thread-safe); returns the row or None. Used to skip known pages.
    lookup: Callable[[str], KnownItem | None] = field(default=lambda url: None)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # `scanner sources test`: a preview, so expensive per-item work (full text) is kept to a few items.
    preview: bool = False
