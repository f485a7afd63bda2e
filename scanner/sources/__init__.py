"""Source kinds. Each module has ``fetch(source, ctx) -> SourceFetch`` and raises ``FetchError`` on failure.

Adding a kind: a module here, a pydantic model in ``config.py``, one line in ``KINDS``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from scanner.config import Config
from scanner.http import HttpClient
from scanner.models import SourceFetch, SourceState

KINDS: dict[str, str] = {
    "rss": "scanner.sources.rss",
    "file": "scanner.sources.file",
    "html": "scanner.sources.html",
    "ckan": "scanner.sources.ckan",
}


@dataclass
class FetchContext:
    """What a source kind may use while fetching. Built by ``scanner.collect`` for each source."""

    http: HttpClient
    config: Config
    now: datetime
    state: SourceState
    # Looks up a stored item by URL (thread-safe); returns the row or None. Used to skip known pages.
    lookup: Callable[[str], dict[str, Any] | None] = field(default=lambda url: None)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # `scanner sources test`: a preview, so expensive per-item work (full text) is kept to a few items.
    preview: bool = False


class SourceKind(Protocol):
    def fetch(self, source: Any, ctx: FetchContext) -> SourceFetch: ...


def kind_module(kind: str) -> SourceKind:
    """The module that fetches sources of ``kind``."""
    return importlib.import_module(KINDS[kind])  # type: ignore[return-value]
