"""The JSON API for other tools: read-only, with a session cookie or ``Authorization: Bearer TOKEN``
(``scanner users token NAME``). Records are the export's (``scanner export signals``)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from scanner.analysis.relevance import stored_explanation
from scanner.models import Item
from scanner.store import Store
from scanner.store.exports import signal_records
from scanner.store.labels import latest_labels
from scanner.store.relevance import decided_relevance
from scanner.store.signals import load_assignments
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
def api_items(store: StoreDep, actor: Reader, search: str = "", source: str = "", relevance: str = "",
              limit: int = 50) -> dict[str, Any]:
    """Items newest first; ``search`` is Thai/English full-text search (newmm tokens), ``relevance``
    one of ``relevant``, ``not_relevant``, ``unscored``. Each item carries its stored decision, its
    signal and the analysts' latest labels."""
    items = store.items(search=search.strip() or None, source_ids=[source] if source else (),
                        limit=max(1, min(limit, 500)), relevance=relevance)
    return {"items": item_entries(store, items)}


@router.get("/items/{item_id}")
def api_item(item_id: int, store: StoreDep, actor: Reader) -> dict[str, Any]:
    """One item with why it was judged relevant (``scanner items --explain``'s fields, as stored)."""
    item = store.item(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"no item with id {item_id}")
    return {**item_entries(store, [item])[0], "explanation": stored_explanation(store, item_id)}


def item_entries(store: Store, items: list[Item]) -> list[dict[str, Any]]:
    """The API's view of ``items``: their fields, stored relevance, signal and latest labels."""
    ids = [i.id for i in items]
    placed = load_assignments(store, ids)
    labels = {kind: latest_labels(store, kind, ids) for kind in ("relevance", "signal")}
    decided = decided_relevance(store, ids, labels["relevance"])
    out = []
    for i in items:
        row = decided.get(i.id)
        out.append({"id": i.id, "source_id": i.source_id, "url": i.url, "title": i.title, "summary": i.summary,
                    "lang": i.lang, "published": i.published,
                    "relevant": None if row is None else row.relevant,
                    "relevance": None if row is None else row.relevance,
                    "signal_id": placed.get(i.id),
                    "labels": {kind: plain(found[i.id]) for kind, found in labels.items() if i.id in found}})
    return out
