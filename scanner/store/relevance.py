"""Queries for the ``item_relevance`` table: one row per item, recomputed when its text or model changes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from scanner.models import Item
from scanner.normalize import split_tokens
from scanner.store import ITEM_COLUMNS, Store, chunked, placeholders, select_items
from scanner.store.labels import Label, latest_labels


@dataclass
class RelevanceRow:
    """What ``item_relevance`` holds for one item."""

    item_id: int
    content_hash: str
    model: str
    relevance: float
    relevant: bool
    topics: list[str]
    explain: dict[str, Any]
    computed_at: str


def items_needing_relevance(store: Store, model_key: str, item_ids: Sequence[int] | None = None) -> list[Item]:
    """Items with no relevance row, or one computed for another text (content hash) or model key."""
    sql = (f"SELECT {ITEM_COLUMNS} FROM items LEFT JOIN item_relevance r ON r.item_id = items.id "
           "WHERE (r.item_id IS NULL OR r.content_hash != items.content_hash OR r.model != ?)")
    return select_items(store, sql, [model_key], item_ids)


def indexed_tokens(store: Store, item_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Title and body tokens of items as stored at fetch time (``items.tokens``: newmm tokens joined
    by spaces, title and body separated by a newline).

    Reading these saves tokenising each item's text again (the costly part of keyword matching).
    """
    out: dict[int, tuple[str, str]] = {}
    ids = list(dict.fromkeys(item_ids))
    for chunk in chunked(ids):
        rows = store.db.execute(
            f"SELECT id, tokens FROM items WHERE id IN ({placeholders(chunk)})", chunk
        ).fetchall()
        for item_id, tokens in rows:
            title, body = split_tokens(tokens)
            out[int(item_id)] = (" ".join(title), " ".join(body))
    return out


def save_relevance(store: Store, rows: Sequence[RelevanceRow]) -> None:
    """Write one batch of relevance rows in one transaction (replacing older rows of those items).

    The one place an analyst's relevance mark (``scanner.store.labels``) overrides the model: an
    item with a label is stored as the label says, and its explanation says who decided it."""
    rows = with_labels(rows, latest_labels(store, "relevance", [r.item_id for r in rows]))
    with store.transaction():
        store.db.table("item_relevance").insert_all(
            ({**asdict(r), "relevance": float(r.relevance), "relevant": int(r.relevant),
              "topics": json.dumps(r.topics, ensure_ascii=False), "explain": json.dumps(r.explain, ensure_ascii=False)}
             for r in rows), replace=True)


def apply_label(row: RelevanceRow, label: Label) -> RelevanceRow:
    """``row`` as the analyst's ``label`` decides it (the model's own decision stays in the explanation,
    also when ``row`` was already decided by an earlier label)."""
    explain = {**row.explain, "model_decision": row.explain.get("model_decision", row.explain.get("decision")),
               "label": {"value": label.value, "by": label.by, "at": label.at}}
    explain["decision"] = "kept" if label.relevant else "left out"
    explain["rule"] = f"label: marked {label.value.replace('_', ' ')} by {label.by}"
    topics = row.topics
    if label.relevant and not topics:
        scores = explain.get("topic_scores") or {}
        topics = [max(scores, key=lambda k: scores[k])] if scores else []
    if not label.relevant:
        topics = []
    explain["topics"] = topics
    return replace(row, relevant=label.relevant, topics=topics, explain=explain)


def with_labels(rows: Sequence[RelevanceRow], labels: Mapping[int, Label]) -> list[RelevanceRow]:
    """``rows`` as each item's latest relevance mark (``labels``) decides it: the one rule by which
    ``save_relevance`` stores decisions and the readers show a mark made since at once."""
    return [apply_label(r, labels[r.item_id]) if r.item_id in labels else r for r in rows]


def with_label(store: Store, row: RelevanceRow) -> RelevanceRow:
    """``row`` as the item's latest relevance mark decides it (``with_labels`` for one row)."""
    return with_labels([row], latest_labels(store, "relevance", [row.item_id]))[0]


def decided_relevance(store: Store, item_ids: Sequence[int],
                      labels: Mapping[int, Label] | None = None) -> dict[int, RelevanceRow]:
    """The stored rows of those of ``item_ids`` that have one, with a mark made since the analysis
    already applied; ``labels``: their latest relevance labels, when the caller has read them."""
    if labels is None:
        labels = latest_labels(store, "relevance", item_ids)
    return {r.item_id: r for r in with_labels(load_relevance_rows(store, item_ids), labels)}


def load_relevance_rows(store: Store, item_ids: Sequence[int]) -> list[RelevanceRow]:
    """The stored relevance rows of those of ``item_ids`` that have one."""
    out: list[RelevanceRow] = []
    for chunk in chunked(list(dict.fromkeys(item_ids))):
        out.extend(RelevanceRow(item_id=r[0], content_hash=r[1], model=r[2], relevance=float(r[3]),
                                relevant=bool(r[4]), topics=json.loads(r[5]), explain=json.loads(r[6]),
                                computed_at=r[7])
                   for r in store.db.execute(
                       "SELECT item_id, content_hash, model, relevance, relevant, topics, explain, computed_at "
                       f"FROM item_relevance WHERE item_id IN ({placeholders(chunk)})", chunk))
    return out


def load_relevance(store: Store, item_id: int) -> RelevanceRow | None:
    """The stored relevance row of one item, or ``None``."""
    rows = load_relevance_rows(store, [item_id])
    return rows[0] if rows else None


def topic_scores(store: Store, item_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    """Each of ``item_ids``' own score per topic, as its relevance row holds them (an item with no row,
    or scored before topic scores were kept, is left out)."""
    out: dict[int, dict[str, float]] = {}
    for chunk in chunked(list(dict.fromkeys(item_ids))):
        for item_id, scores in store.db.execute(
                "SELECT item_id, json_extract(explain, '$.topic_scores') FROM item_relevance "
                f"WHERE item_id IN ({placeholders(chunk)})", chunk):
            if scores:
                out[int(item_id)] = {str(k): float(v) for k, v in json.loads(scores).items()}
    return out


def count_relevance(store: Store, item_ids: Sequence[int] | None = None) -> tuple[int, int]:
    """(items with a relevance row, of which relevant) over all items or ``item_ids``."""
    if item_ids is None:
        row = store.db.execute("SELECT count(*), coalesce(sum(relevant), 0) FROM item_relevance").fetchone()
        return int(row[0]), int(row[1])
    total = relevant = 0
    ids = list(dict.fromkeys(item_ids))
    for chunk in chunked(ids):
        row = store.db.execute(
            f"SELECT count(*), coalesce(sum(relevant), 0) FROM item_relevance "
            f"WHERE item_id IN ({placeholders(chunk)})",
            chunk,
        ).fetchone()
        total += int(row[0])
        relevant += int(row[1])
    return total, relevant
