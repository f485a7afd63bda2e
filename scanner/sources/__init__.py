"""Source kinds. Each module has ``fetch(source, ctx) -> SourceFetch`` and raises ``FetchError`` on failure.

Adding a kind: a module here, a pydantic model in ``config.py``, one branch in ``scanner.collect.fetch_kind``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scanner.config import Config, SourceConfig
from scanner.http import HttpClient, HttpResponse
from scanner.models import KnownItem, SourceState
from scanner.netguard import Deadline
from scanner.normalize import same_site


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
    # The source's total time budget for this fetch (``settings.source_budget``): every request of
    # it, full text and next pages included, counts against it.
    deadline: Deadline = field(default_factory=Deadline.none)
    # The source being fetched: its URLs are "home" for full text and next pages.
    source: SourceConfig | None = None

    def get(self, url: str, **kwargs: Any) -> HttpResponse:
        """``http.get`` within the source's budget."""
        return self.http.get(url, deadline=self.deadline, **kwargs)

    def offsite(self, url: str) -> bool:
        """True when ``url`` is on another site than the source's own URLs and the source does not
        say ``follow_offsite: true``: full text and next pages are then not fetched."""
        if self.source is None or getattr(self.source, "follow_offsite", False):
            return False
        home = getattr(self.source, "urls", None) or [getattr(self.source, "url", "")]
        return not any(same_site(url, h) for h in home)
