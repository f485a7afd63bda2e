"""Gather one ISO week's digest into plain dataclasses (serialised as the digest's JSON).

Only rows bounded by the week's end are read, and nothing here looks at the wall clock, so a week
rebuilt later from the same database gives byte-identical JSON. Reviews are the analysts' input:
those recorded up to ``now`` (the time the digest is written, or ``--as-of``) are applied.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scanner.analysis.tags import tag_label
from scanner.clock import iso, iso_week, parse_iso, shift_week, week_end, week_start, weeks_between
from scanner.config import Config
from scanner.normalize import http_url
from scanner.store import Store
from scanner.store import digest as q
from scanner.store.reviews import ReviewRow, VerdictSummary, reviews_by_signal, summarise_reviews

logger = logging.getLogger(__name__)

STATE_LABELS = {
    "weak": "Weak signal", "strong": "Strong signal", "latent": "Latent", "established": "Established",
    "new": "New", "fading": "Fading",
}
SECTION_STATES = {"emerging": ("weak",), "new": ("new",), "strong": ("strong", "established"),
                  "fading": ("fading",), "latent": ("latent",)}
TAG_GROUPS = (("steepv", "STEEP+V"), ("themes", "Thematic areas"), ("sdgs", "SDGs"))
SURGE_FACTOR = 2.0
SURGE_MIN_ITEMS = 3


@dataclass
class ItemRef:
    id: int
    title: str
    url: str | None
    source: str
    source_name: str
    kind: str
    date: str
    lang: str


@dataclass
class Review:
    verdict: str
    by: str
    at: str
    note: str | None


@dataclass
class SignalCard:
    id: int
    anchor: str
    title: str
    state: str
    state_label: str
    why: str
    scores_text: str
    keywords_th: list[str]
    keywords_en: list[str]
    items_week: int
    stories_week: int
    items_total: int
    items_recent: int
    sources_week: int
    source_kinds_week: int
    source_names: list[str]
    kinds: list[str]
    dov: float | None
    dod: float | None
    dov_growth: float | None
    dod_growth: float | None
    first_seen: str
    last_seen: str
    sparkline: list[int]
    tags: dict[str, list[str]]
    topics: list[str]
    items: list[ItemRef]
    items_more: int
    events: list[str]
    attention: float
    verdict: str | None = None
    verdict_text: str = ""
    disputed: bool = False
    watched: bool = False
    surged_after_dismissal: str | None = None
    reviews: list[Review] = field(default_factory=list)


@dataclass
class Section:
    key: str
    title: str
    title_th: str
    intro: str
    signals: list[SignalCard] = field(default_factory=list)
    more: int = 0


@dataclass
class Digest:
    week: str
    start: str
    end: str
    period: str
    timezone: str
    first_digest: bool
    headline: list[str]
    top: list[dict[str, Any]]
    stats: dict[str, Any]
    sections: list[Section]
    charts: dict[str, Any]
    themes: list[dict[str, Any]]
    watchlist: list[dict[str, Any]]
    hidden: dict[str, Any]
    source_health: dict[str, Any]
    history_weeks: list[str]


def _r(value: Any, digits: int = 4) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else round(f, digits)


def format_period(week: str, tz: str) -> str:
    """``17–23 Mar 2025`` for an ISO week, in the lab's time zone."""
    zone = ZoneInfo(tz)
    a = week_start(week, tz).astimezone(zone).date()
    b = a + timedelta(days=6)
    if a.year != b.year:
        return f"{a.day} {a:%b %Y} – {b.day} {b:%b %Y}"
    if a.month != b.month:
        return f"{a.day} {a:%b} – {b.day} {b:%b %Y}"
    return f"{a.day}–{b.day} {b:%b %Y}"


def pct(growth: float | None) -> str:
    """``0.45`` → ``+45%``."""
    if growth is None:
        return "n/a"
    return f"{growth * 100:+.0f}%"


def describe_growth(growth: float | None) -> str:
    if growth is None:
        return "not measurable yet"
    if growth > 0.5:
        return f"rising fast ({pct(growth)} a week)"
    if growth > 0.1:
        return f"rising ({pct(growth)} a week)"
    if growth >= -0.1:
        return f"steady ({pct(growth)} a week)"
    return f"declining ({pct(growth)} a week)"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def explain_state(c: SignalCard, fading_weeks: int) -> str:
    """Why a signal has its state, in words an analyst can check against the figures."""
    spread = f"{plural(c.sources_week, 'source')} ({plural(c.source_kinds_week, 'kind')} of source)"
    vis = describe_growth(c.dov_growth)
    dif = describe_growth(c.dod_growth)
    counts = (f"{plural(c.items_week, 'item')} this week, {c.items_recent} in the last four weeks, "
              f"{c.items_total} in all")
    if c.state == "weak":
        head = f"Still rare ({counts}) but visibility is {vis} and diffusion is {dif}; seen in {spread}."
    elif c.state == "strong":
        head = f"Frequent ({counts}) and still growing: visibility {vis}, diffusion {dif}; seen in {spread}."
    elif c.state == "established":
        head = f"Frequent ({counts}) but no longer growing: visibility {vis}; seen in {spread}."
    elif c.state == "latent":
        head = f"Rare and not growing ({plural(c.items_week, 'item')} this week); visibility {vis}."
    elif c.state == "new":
        head = (f"First seen this week: {plural(c.items_week, 'item')} from {spread}; "
                "too young for a growth rate.")
    elif c.state == "fading":
        head = (f"No new items for {fading_weeks} weeks or more (last seen {c.last_seen}); "
                f"{plural(c.items_total, 'item')} in all.")
    else:
        head = f"{plural(c.items_week, 'item')} this week."
    return head


def explain_scores(c: SignalCard) -> str:
    """The DoV/DoD figures behind the state, in words."""
    if c.dov is None or c.dod is None or c.state in ("new", "fading"):
        return ""
    return (f"Degree of visibility {c.dov:.3f} (how prominent it is among this week's items, recent weeks weighted "
            f"more); degree of diffusion {c.dod:.3f} (how widely it is spread across documents and sources).")


def _attention(items_week: int, sources: int, dov_g: float | None, dod_g: float | None) -> float:
    """How much a signal deserves a look this week: volume, spread and growth together."""
    growth = max(dov_g or 0.0, 0.0) + max(dod_g or 0.0, 0.0)
    return round(math.log1p(items_week) * (1 + growth) * math.sqrt(max(sources, 1)), 6)


def _pick_items(members: list[dict[str, Any]], start: str, n: int, tz: str) -> list[ItemRef]:
    """``n`` representative items: this week's first, most central first, one per source per round."""
    this_week = [m for m in members if m["published"] >= start]
    older = [m for m in members if m["published"] < start]
    picked: list[dict[str, Any]] = []
    for pool in (this_week, older):
        remaining = list(pool)
        while remaining and len(picked) < n:
            used: set[str] = set()
            rest = []
            for m in remaining:
                if len(picked) < n and m["source_id"] not in used:
                    picked.append(m)
                    used.add(m["source_id"])
                else:
                    rest.append(m)
            remaining = rest
    zone = ZoneInfo(tz)
    return [ItemRef(id=int(m["id"]), title=m["title"] or "(untitled)", url=http_url(m["url"]),
                    source=m["source_id"], source_name=m["source_name"] or m["source_id"], kind=m["kind"] or "",
                    date=parse_iso(m["published"]).astimezone(zone).date().isoformat(), lang=m["lang"] or "")
            for m in picked]


def _event_text(ev: dict[str, Any]) -> str:
    d = q.load_json(ev["detail"], {})
    kind = ev["event"]
    if kind == "merged" and d.get("merged") is not None:
        return f"signal #{d['merged']} was merged into #{d.get('kept')}"
    if kind == "renamed":
        return f"renamed from “{d.get('from', '')}”"
    if kind == "split" and d.get("into"):
        return "split into " + ", ".join(f"#{x}" for x in d["into"]) if isinstance(d["into"], list) else "split"
    return {"born": "born this week", "grew": "grew this week", "faded": "faded this week",
            "revived": "came back after fading", "split": "split this week"}.get(kind, kind)


def build_digest(config: Config, store: Store, week: str, now: datetime) -> Digest:
    """Everything the digest of ``week`` shows, read from the database."""
    tz = config.settings.timezone
    dcfg = config.digest
    start, end = iso(week_start(week, tz)), iso(week_end(week, tz))
    history = weeks_between(shift_week(week, -(config.analysis.window_weeks - 1)), week)
    items = q.fetch_items_between(store, start, end)
    analysed = q.count_analysed(store, end) > 0
    relevant = [i for i in items if i["relevant"]]
    sources_active = sorted({i["source_id"] for i in items})
    kinds_active = sorted({i["kind"] or "?" for i in items})

    # ---------------------------------------------------------------- signals
    rows = q.fetch_signals(store, week)
    sw = q.fetch_signal_weeks(store, history[0], week)
    latest = q.fetch_latest_signal_weeks(store, week)
    totals = q.fetch_signal_totals(store, week)
    events = q.fetch_signal_events(store, week)
    reviews = reviews_by_signal(store, until=iso(now))
    cards: list[SignalCard] = []
    for s in rows:
        sid = int(s["id"])
        this = sw.get(sid, {}).get(week)
        last = latest.get(sid)
        state = (this or {}).get("state") or (last or {}).get("state") or s["state"] or "latent"
        if this is None and last is not None and last["week"] < week:
            gap = len(weeks_between(last["week"], week)) - 1
            if gap >= config.analysis.fading_weeks:
                state = "fading"
        if s["first_seen"] == week and state not in ("weak", "strong"):
            state = "new"
        kw = q.load_json((this or {}).get("keywords"), {}) or q.load_json(s["keywords"], {})
        members = q.fetch_signal_members(store, sid, end)
        week_members = [m for m in members if m["published"] >= start]
        spark = [int(sw.get(sid, {}).get(w, {}).get("items") or 0) for w in history]
        card = SignalCard(
            id=sid, anchor=f"signal-{sid}", title=(s["custom_title"] or s["title"] or f"Signal {sid}").strip(),
            state=state, state_label=STATE_LABELS.get(state, state), why="", scores_text="",
            keywords_th=[str(k) for k in kw.get("th", [])][:8], keywords_en=[str(k) for k in kw.get("en", [])][:8],
            items_week=int((this or {}).get("items") or 0), stories_week=int((this or {}).get("stories") or 0),
            items_total=totals.get(sid, 0), items_recent=sum(spark[-4:]),
            sources_week=int((this or {}).get("sources") or 0),
            source_kinds_week=int((this or {}).get("source_kinds") or 0),
            source_names=sorted({m["source_name"] for m in week_members}),
            kinds=sorted({m["kind"] or "?" for m in week_members}),
            dov=_r((this or {}).get("dov")), dod=_r((this or {}).get("dod")),
            dov_growth=_r((this or {}).get("dov_growth")), dod_growth=_r((this or {}).get("dod_growth")),
            first_seen=s["first_seen"], last_seen=min(s["last_seen"], (last or {}).get("week") or s["last_seen"]),
            sparkline=spark, tags={k: [tag_label(str(t)) for t in v] for k, v in q.load_json(s["tags"], {}).items()
                                   if isinstance(v, list)},
            topics=[str(t) for t in q.load_json(s["topics"], [])],
            items=_pick_items(members, start, dcfg.max_items, tz), items_more=0,
            events=[_event_text(e) for e in events.get(sid, [])],
            attention=_attention(int((this or {}).get("items") or 0), int((this or {}).get("sources") or 0),
                                 _r((this or {}).get("dov_growth")), _r((this or {}).get("dod_growth"))),
        )
        card.items_more = max(len(members) - len(card.items), 0)
        card.why = explain_state(card, config.analysis.fading_weeks)
        card.scores_text = explain_scores(card)
        if state in ("strong", "established"):
            shown_items = min(3, dcfg.max_items)
            card.items_more += max(len(card.items) - shown_items, 0)
            card.items = card.items[:shown_items]
        _apply_reviews(card, summarise_reviews(reviews.get(sid, [])), reviews.get(sid, []), sw.get(sid, {}), history)
        cards.append(card)

    shown = [c for c in cards if c.verdict != "dismiss" or c.surged_after_dismissal]
    hidden = [c for c in cards if c not in shown]
    ranked = sorted((c for c in shown if c.state in ("weak", "new", "strong") and c.items_week > 0),
                    key=lambda c: (-c.attention, c.id))
    top = ranked[:3]
    pinned = {c.id for c in top} | {c.id for c in shown if c.watched}
    sections = _make_sections(shown, pinned, dcfg.max_signals)
    placed = {c.id for sec in sections for c in sec.signals}

    # ---------------------------------------------------------------- headline
    new_n = sum(1 for c in shown if c.state == "new")
    weak_n = sum(1 for c in shown if c.state == "weak")
    strong_n = sum(1 for c in shown if c.state == "strong")
    fading_n = sum(1 for c in shown if c.state == "fading")
    prior = store.query("SELECT count(*) AS n FROM items WHERE published < ?", [start])[0]["n"]
    first_digest = int(prior) == 0
    headline = _headline(week, format_period(week, config.settings.timezone), items, relevant, analysed,
                         sources_active, kinds_active, cards, new_n, weak_n, strong_n, fading_n, top, first_digest)

    watchlist = [{"id": c.id, "anchor": c.anchor, "title": c.title, "state": c.state, "state_label": c.state_label,
                  "items_week": c.items_week, "verdict_text": c.verdict_text, "shown_above": c.id in placed,
                  "card": c if c.id not in placed else None}
                 for c in sorted(shown, key=lambda c: c.id) if c.watched]
    notes = [{"id": c.id, "anchor": c.anchor, "title": c.title, "reviews": [r for r in c.reviews if r.note]}
             for c in sorted(shown, key=lambda c: c.id) if any(r.note for r in c.reviews) and not c.watched]

    return Digest(
        week=week, start=start, end=end, period=format_period(week, tz), timezone=tz, first_digest=first_digest,
        headline=headline,
        top=[{"id": c.id, "anchor": c.anchor, "title": c.title, "state": c.state, "state_label": c.state_label,
              "why": c.why} for c in top],
        stats={"items": len(items), "relevant": len(relevant) if analysed else None, "analysed": analysed,
               "sources": len(sources_active), "source_kinds": kinds_active, "signals_tracked": len(cards),
               "new": new_n, "weak": weak_n, "strong": strong_n, "fading": fading_n,
               "established": sum(1 for c in shown if c.state == "established"),
               "latent": sum(1 for c in shown if c.state == "latent")},
        sections=sections,
        charts=_charts(config, store, week, history, start),
        themes=_themes(shown, placed, dcfg.max_signals),
        watchlist=watchlist + [{"notes_only": True, **n} for n in notes],
        hidden={"dismissed": len(hidden), "titles": [{"id": c.id, "title": c.title, "verdict_text": c.verdict_text}
                                                      for c in hidden][: dcfg.max_signals],
                "more": max(len(hidden) - dcfg.max_signals, 0)},
        source_health=_source_health(store, week, start, end, tz, dcfg.max_signals),
        history_weeks=history,
    )


def _apply_reviews(card: SignalCard, summary: VerdictSummary, reviews: list[ReviewRow],
                   weeks: dict[str, dict[str, Any]], history: list[str]) -> None:
    card.reviews = [Review(verdict=r.verdict, by=r.by, at=r.created_at[:10], note=r.note) for r in reviews]
    card.verdict, card.verdict_text, card.disputed = summary.effective, summary.text, summary.disputed
    card.watched = summary.effective == "watch"
    if summary.effective == "dismiss":
        before = [int(weeks.get(w, {}).get("items") or 0) for w in history[-5:-1]]
        baseline = sum(before) / len(before) if before else 0.0
        surged = card.items_week >= SURGE_MIN_ITEMS and card.items_week >= SURGE_FACTOR * baseline
        if surged or (card.state == "strong" and card.items_week > 0):
            card.surged_after_dismissal = (
                f"Dismissed ({summary.text}) but back because it surged: {plural(card.items_week, 'item')} this week "
                f"against {baseline:.1f} a week before.")


def _make_sections(cards: list[SignalCard], pinned: set[int], cap: int) -> list[Section]:
    meta = [
        ("emerging", "Weak and emerging signals", "สัญญาณอ่อนที่กำลังก่อตัว",
         "Rare but growing: the early signs horizon scanning is for."),
        ("new", "New this week", "สัญญาณใหม่สัปดาห์นี้", "Signals first seen this week."),
        ("strong", "Strong and ongoing", "สัญญาณแรงและต่อเนื่อง",
         "Frequent topics: growing (strong) or steady (established)."),
        ("fading", "Fading", "สัญญาณที่กำลังจางลง", "Signals with no new items for a while."),
        ("latent", "Quiet (latent)", "สัญญาณแฝง", "Rare and not growing; tracked in case they wake up."),
    ]
    out = []
    for key, title, title_th, intro in meta:
        members = sorted((c for c in cards if c.state in SECTION_STATES[key]),
                         key=lambda c: (-c.attention, -c.items_total, c.id))
        if key == "latent":
            members.sort(key=lambda c: (-c.items_total, c.id))
        elif key == "fading":
            members.sort(key=lambda c: (-int(c.last_seen.replace("-W", "")), c.id))
        keep = [c for i, c in enumerate(members) if i < cap or c.id in pinned]
        out.append(Section(key=key, title=title, title_th=title_th, intro=intro, signals=keep,
                           more=len(members) - len(keep)))
    return out


def _headline(week: str, period: str, items: list[dict[str, Any]], relevant: list[dict[str, Any]], analysed: bool,
              sources: list[str], kinds: list[str], cards: list[SignalCard], new_n: int, weak_n: int,
              strong_n: int, fading_n: int, top: list[SignalCard], first: bool) -> list[str]:
    if not items:
        one = f"No items were published in {week} ({period}) by the sources the scanner reads."
    else:
        rel = f", {plural(len(relevant), 'item')} relevant to the lab's topics" if analysed else ""
        one = (f"In {week} ({period}) the scanner collected {plural(len(items), 'item')} from "
               f"{plural(len(sources), 'source')} ({', '.join(kinds)}){rel}.")
    if not cards:
        two = ("No signals are tracked yet: signals appear once `scanner analyse` has grouped enough related items."
               if not analysed else "No signals were found yet: too few related items to group.")
    else:
        bits = [plural(new_n, "new signal"), f"{weak_n} rising as weak {'signal' if weak_n == 1 else 'signals'}",
                f"{strong_n} strong"]
        two = f"{len(cards)} signals are tracked: " + ", ".join(bits) + f" and {fading_n} fading."
    if top:
        t = top[0]
        three = (f"Look first at “{t.title}”, a {t.state_label.lower()}: {plural(t.items_week, 'item')} this week "
                 f"from {plural(t.sources_week, 'source')}, visibility {describe_growth(t.dov_growth)}.")
        if t.state == "new":
            three = (f"Look first at “{t.title}”, new this week with {plural(t.items_week, 'item')} "
                     f"from {plural(t.sources_week, 'source')}.")
    elif first:
        three = "This is one of the first digests: growth rates need a few weeks of history, so states will settle."
    else:
        three = "Nothing new or rising stood out this week."
    return [one, two, three]


def _charts(config: Config, store: Store, week: str, history: list[str], start: str) -> dict[str, Any]:
    rows = q.fetch_keyword_weeks(store, week)
    points = []
    for r in rows:
        if r["dov_growth"] is None and r["dod_growth"] is None:
            continue
        points.append({"label": r["keyword"], "lang": r["lang"], "tf": int(r["tf"]), "df": int(r["df"]),
                       "dov": _r(r["dov"]), "dod": _r(r["dod"]), "dov_growth": _r(r["dov_growth"]) or 0.0,
                       "dod_growth": _r(r["dod_growth"]) or 0.0})
    by_tf = sorted(points, key=lambda p: (-p["tf"], p["label"]))[:20]
    by_growth = sorted((p for p in points if p["tf"] >= 2), key=lambda p: (-p["dov_growth"], p["label"]))[:15]
    chosen = {p["label"]: p for p in by_tf + by_growth}
    pts = sorted(chosen.values(), key=lambda p: (-p["tf"], p["label"]))
    maps = {}
    for name, x, y in (("emergence", "tf", "dov_growth"), ("issue", "df", "dod_growth")):
        xs = [p[x] for p in pts]
        ys = [p[y] for p in pts]
        x_split = statistics.median(xs) if xs else 1.0
        y_split = statistics.median(ys) if ys else 0.0
        mpts = []
        for p in pts:
            hi_x, hi_y = p[x] >= x_split, p[y] >= y_split
            quad = {(False, True): "weak", (True, True): "strong", (False, False): "latent",
                    (True, False): "established"}[(hi_x, hi_y)]
            mpts.append({"label": p["label"], "lang": p["lang"], x: p[x], y: p[y], "quadrant": quad})
        maps[name] = {"x": x, "y": y, "x_split": _r(x_split), "y_split": _r(y_split), "points": mpts}
    # Weekly volume by topic (an item counts under its first topic).
    names = {t.id: (t.name or t.id) for t in config.topics}
    vol: dict[str, Counter[str]] = {}
    hist_items = q.fetch_items_between(store, iso(week_start(history[0], config.settings.timezone)),
                                       iso(week_end(week, config.settings.timezone)))
    analysed = any(i["relevant"] is not None for i in hist_items)
    for i in hist_items:
        w = iso_week(parse_iso(i["published"]), config.settings.timezone)
        if analysed:
            if not i["relevant"]:
                continue
            topics = q.load_json(i["topics"], [])
            key = str(topics[0]) if topics else "other"
        else:
            key = "all items"
        vol.setdefault(key, Counter())[w] += 1
    order = sorted(vol, key=lambda k: (-sum(vol[k].values()), k))
    series = [{"id": k, "name": names.get(k, k), "counts": [vol[k][w] for w in history]} for k in order[:7]]
    if len(order) > 7:
        rest = Counter[str]()
        for k in order[7:]:
            rest.update(vol[k])
        series.append({"id": "_other", "name": "other topics", "counts": [rest[w] for w in history]})
    return {"emergence": maps["emergence"], "issue": maps["issue"],
            "volume": {"weeks": history, "relevant_only": analysed, "series": series}}


def _themes(cards: list[SignalCard], placed: set[int], cap: int) -> list[dict[str, Any]]:
    """Signals grouped by STEEP+V, thematic area and SDG; the busiest first, ``cap`` per tag."""
    out = []
    for key, label in TAG_GROUPS:
        groups: dict[str, list[dict[str, Any]]] = {}
        for c in sorted(cards, key=lambda c: (-c.items_week, c.id)):
            for tag in c.tags.get(key, []):
                groups.setdefault(tag, []).append({"id": c.id, "anchor": c.anchor, "title": c.title,
                                                   "state": c.state, "linked": c.id in placed})
        order = sorted(groups, key=lambda t: (-len(groups[t]), t))
        out.append({"key": key, "label": label,
                    "tags": [{"tag": t, "signals": groups[t][:cap], "more": max(len(groups[t]) - cap, 0)}
                             for t in order]})
    return out


def _source_health(store: Store, week: str, start: str, end: str, tz: str, cap: int) -> dict[str, Any]:
    rows = [r for r in q.fetch_source_health(store, start, end) if (r["known_since"] or "") < end]
    failed, stale, new = [], [], []
    zone = ZoneInfo(tz)
    for r in rows:
        if r["failures"]:
            failed.append({"id": r["id"], "name": r["name"], "failures": int(r["failures"]),
                           "attempts": int(r["attempts"]), "error": (r["last_error"] or "").splitlines()[0][:200]
                           if r["last_error"] else ""})
        if r["known_since"] >= start:
            new.append({"id": r["id"], "name": r["name"], "kind": r["kind"], "items_week": int(r["items_week"])})
        elif r["enabled"] and r["in_config"]:
            if not r["last_item"]:
                stale.append({"id": r["id"], "name": r["name"], "last_item": None, "weeks": None})
            else:
                days = (parse_iso(end) - parse_iso(r["last_item"])).days
                if days >= 28:
                    stale.append({"id": r["id"], "name": r["name"],
                                  "last_item": parse_iso(r["last_item"]).astimezone(zone).date().isoformat(),
                                  "weeks": days // 7})
    stale.sort(key=lambda s: (s["last_item"] or "", s["id"]))
    return {"sources": len(rows), "failed": failed[:cap], "failed_more": max(len(failed) - cap, 0),
            "stale": stale[:cap], "stale_more": max(len(stale) - cap, 0), "new": new[:cap],
            "new_more": max(len(new) - cap, 0), "week": week}
