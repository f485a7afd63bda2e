"""The JSON API for other tools: read-only, with a session cookie or ``Authorization: Bearer TOKEN``
(``scanner users token NAME``). Records are the export's (``scanner export signals``)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from scanner.store.exports import signal_records
from scanner.web.auth import Actor, StoreDep, require
from scanner.web.pages import config_of, signal_page_data, signal_rows

router = APIRouter(prefix="/api")

Reader = Annotated[Actor, Depends(require("read"))]


def plain(value: Any) -> Any:
    """Dataclasses (and lists of them) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@router.get("/signals")
def api_signals(store: StoreDep, actor: Reader, state: str = "", tag: str = "", verdict: str = "", q: str = "",
                rated: str = "", sort: str = "id") -> dict[str, Any]:
    """Signals with their verdict and rating summary, filtered as the Signals page."""
    return {"signals": signal_rows(store, state, tag, verdict, q, rated, sort)}


@router.get("/signals/{signal_id}")
def api_signal(request: Request, signal_id: int, store: StoreDep, actor: Reader) -> dict[str, Any]:
    """One signal: its record (keywords, tags, weekly scores, members), events, verdicts, ratings and audit."""
    if not signal_records(store, ids=[signal_id], with_members=False):
        raise HTTPException(status_code=404, detail=f"no signal with id {signal_id}")
    data = signal_page_data(store, signal_id, config_of(request).analysis.fading_weeks)
    data.pop("chart")
    data.pop("latest")
    data.pop("weeks")
    out: dict[str, Any] = plain({"signal": data.pop("s"), **data})
    return out


@router.get("/items")
def api_items(store: StoreDep, actor: Reader, search: str = "", source: str = "", limit: int = 50) -> dict[str, Any]:
    """Items newest first; ``search`` is Thai/English full-text search (newmm tokens)."""
    items = store.items(search=search.strip() or None, source_ids=[source] if source else (),
                        limit=max(1, min(limit, 500)))
    return {"items": [{"id": i.id, "source_id": i.source_id, "url": i.url, "title": i.title, "summary": i.summary,
                       "lang": i.lang, "published": i.published} for i in items]}
