"""Reading signals and items for people and other tools (``scanner signals``, ``scanner export``).

The record shapes are a public contract (the JSON other tools read), so they are ``TypedDict``s
whose keys are the JSON's keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields
from typing import Any, TypedDict

from scanner.models import WeekScores
from scanner.store import Store, chunked, load_json, placeholders
from scanner.store.ratings import RatingSummary, all_rating_summaries
from scanner.store.trends import TrendRef, trend_of_signals


class ItemRef(TypedDict):
    id: int
    url: str | None
    title: str
    published: str
    lang: str
    source_id: str


class MemberRecord(ItemRef):
    similarity: float | None


class EventRecord(TypedDict):
    week: str
    event: str
    detail: dict[str, Any]
    created_at: str


class RatingsRecord(TypedDict):
    raters: int
    novelty: float | None  # median, 1–5
    horizon: str | None  # H1 | H2 | H3 (the middle one; the lower of two)
    impact: float | None  # median, 1–3


class SignalRecord(TypedDict):
    id: int
    title: str
    name: str  # the name shown: an analyst's rename, else the one made from keyphrases (same as ``title``)
    example: str  # the most representative headline
    summary: str  # one paragraph from the language model (``analysis.namer: llm``); '' when there is none
    auto_title: str
    custom_title: str | None
    keywords: dict[str, list[str]]
    state: str
    status: str
    merged_into: int | None
    topics: list[str]
    tags: dict[str, list[str]]
    first_seen: str
    last_seen: str
    updated_at: str
    weeks: list[WeekScores]
    items: list[MemberRecord]
    trend: TrendRef | None  # the trend it belongs to (id and name), if any
    ratings: RatingsRecord  # the analysts' FTSS-scale ratings: medians and how many rated


class ItemRecord(ItemRef):
    relevance: float | None
    relevant: bool | None
    topics: list[str]
    signal_id: int | None
    story_id: int | None
    duplicate_of: int | None
    novelty: float | None  # relevant items analysed: 1 − cosine to the closest earlier item (``analysis.novelty``)


WEEK_COLUMNS = tuple(f.name for f in fields(WeekScores))
MEMBER_COLUMNS = ("id", "url", "title", "published", "lang", "source_id", "similarity")


def signal_records(store: Store, ids: Sequence[int] | None = None, state: str | None = None,
                   include_merged: bool = False, with_members: bool = True) -> list[SignalRecord]:
    """Signals in id order with keywords, tags, weekly rows and (``with_members``) member items.

    Merged signals are left out unless ``include_merged`` or asked for by id.
    """
    where: list[str] = []
    params: list[Any] = []
    if ids is not None:
        where.append(f"id IN ({placeholders(ids)})")
        params.extend(ids)
    if state:
        where.append("state = ?")
        params.append(state)
    if not include_merged and ids is None:
        where.append("status != 'merged'")
    sql = ("SELECT id, title, custom_title, keywords, state, status, merged_into, topics, tags, first_seen, last_seen, "
           "updated_at, example, summary FROM signals" + (" WHERE " + " AND ".join(where) if where else "") +
           " ORDER BY id")
    rows = store.db.execute(sql, params).fetchall()
    sids = [r[0] for r in rows]
    trend = trend_of_signals(store)
    rated = all_rating_summaries(store)
    weeks: dict[int, list[WeekScores]] = {}
    members: dict[int, list[MemberRecord]] = {}
    for chunk in chunked(sids):
        for sid, *w in store.db.execute(
            f"SELECT signal_id, {', '.join(WEEK_COLUMNS)} FROM signal_weeks WHERE signal_id IN "
            f"({placeholders(chunk)}) ORDER BY signal_id, week", chunk
        ):
            weeks.setdefault(sid, []).append(WeekScores(*w))
        if with_members:
            for sid, *m in store.db.execute(
                "SELECT si.signal_id, i.id, i.url, i.title, i.published, i.lang, i.source_id, si.similarity "
                f"FROM signal_items si JOIN items i ON i.id = si.item_id WHERE si.signal_id IN ({placeholders(chunk)}) "
                "ORDER BY si.signal_id, i.published DESC, i.id DESC", chunk
            ):
                members.setdefault(sid, []).append(MemberRecord(**dict(zip(MEMBER_COLUMNS, m, strict=True))))  # type: ignore[typeddict-item]
    return [SignalRecord(
        id=sid, title=custom or title, name=custom or title, example=example, summary=summary, auto_title=title,
        custom_title=custom, keywords=load_json(kw, {}), state=st,
        status=status, merged_into=into, topics=load_json(topics, []), tags=load_json(tags, {}), first_seen=first,
        last_seen=last, updated_at=updated, weeks=weeks.get(sid, []), items=members.get(sid, []),
        trend=trend.get(sid), ratings=_ratings(rated.get(sid)),
    ) for sid, title, custom, kw, st, status, into, topics, tags, first, last, updated, example, summary in rows]


def _ratings(summary: RatingSummary | None) -> RatingsRecord:
    if summary is None:
        return RatingsRecord(raters=0, novelty=None, horizon=None, impact=None)
    return RatingsRecord(raters=summary.raters, novelty=summary.novelty, horizon=summary.horizon,
                         impact=summary.impact)


def signal_item_counts(store: Store) -> dict[int, int]:
    """How many items each signal holds now."""
    return dict(store.db.execute("SELECT signal_id, COUNT(*) FROM signal_items GROUP BY signal_id"))


def event_records(store: Store, signal_id: int) -> list[EventRecord]:
    """A signal's events, oldest first."""
    return [EventRecord(week=w, event=e, detail=load_json(d, {}), created_at=c) for w, e, d, c in store.db.execute(
        "SELECT week, event, detail, created_at FROM signal_events WHERE signal_id = ? ORDER BY id", [signal_id])]


def item_records(store: Store, relevant_only: bool = False) -> list[ItemRecord]:
    """Every item (or the relevant ones) with its relevance, topics, story, signal and novelty, oldest first."""
    return list(iter_item_records(store, relevant_only))


def iter_item_records(store: Store, relevant_only: bool = False) -> Iterator[ItemRecord]:
    """``item_records`` one at a time, read from the database as they are consumed (big exports)."""
    sql = (
        "SELECT i.id, i.url, i.title, i.published, i.lang, i.source_id, r.relevance, r.relevant, r.topics, "
        "si.signal_id, st.story_id, i.duplicate_of, n.novelty FROM items i "
        "LEFT JOIN item_relevance r ON r.item_id = i.id LEFT JOIN signal_items si ON si.item_id = i.id "
        "LEFT JOIN stories st ON st.item_id = i.id LEFT JOIN item_novelty n ON n.item_id = i.id"
    )
    if relevant_only:
        sql += " WHERE r.relevant = 1"
    for r in store.db.execute(sql + " ORDER BY i.published, i.id"):
        yield ItemRecord(id=r[0], url=r[1], title=r[2], published=r[3], lang=r[4], source_id=r[5], relevance=r[6],
                         relevant=None if r[7] is None else bool(r[7]), topics=load_json(r[8], []), signal_id=r[9],
                         story_id=r[10], duplicate_of=r[11], novelty=r[12])
