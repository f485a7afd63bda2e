"""The data behind the digest's charts: the two keyword maps and the weekly volume by topic.

``charts.py`` draws them; this module decides what they show. A keyword's quadrant on a map comes
from ``scanner.analysis.score.quadrant``, the rule that places signals, against the medians of the
keywords shown.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from scanner.analysis.score import median, quadrant
from scanner.clock import iso, iso_week, parse_iso, week_end, week_start
from scanner.config import Config
from scanner.digest.model import Charts, EmergencePoint, IssuePoint, KeywordMap, VolumeChart, VolumeSeries, rounded
from scanner.models import KeywordWeek
from scanner.store import Store
from scanner.store import digest as q

logger = logging.getLogger(__name__)

MOST_FREQUENT = 20  # keywords on the maps: the most frequent ...
FASTEST_GROWING = 15  # ... and the fastest growing with at least MIN_TF occurrences
MIN_TF = 2
VOLUME_SERIES = 7  # topics in the volume chart; the rest are summed as "other topics"


@dataclass
class MapKeyword:
    label: str
    lang: str
    tf: int
    df: int
    dov_growth: float
    dod_growth: float


def build_charts(config: Config, store: Store, week: str, history: list[str]) -> Charts:
    """Both keyword maps of ``week`` and the volume chart over the ``history`` weeks."""
    emergence, issue = keyword_maps(q.fetch_keyword_weeks(store, week))
    return {"emergence": emergence, "issue": issue, "volume": volume_chart(config, store, history)}


def map_keywords(rows: list[KeywordWeek]) -> list[MapKeyword]:
    """The keywords both maps show (those with a growth rate), most frequent first."""
    scored = [MapKeyword(label=r.keyword, lang=r.lang, tf=r.tf, df=r.df, dov_growth=rounded(r.dov_growth) or 0.0,
                         dod_growth=rounded(r.dod_growth) or 0.0)
              for r in rows if r.dov_growth is not None or r.dod_growth is not None]
    by_tf = sorted(scored, key=lambda k: (-k.tf, k.label))[:MOST_FREQUENT]
    by_growth = sorted((k for k in scored if k.tf >= MIN_TF), key=lambda k: (-k.dov_growth, k.label))[:FASTEST_GROWING]
    chosen = {k.label: k for k in by_tf + by_growth}
    return sorted(chosen.values(), key=lambda k: (-k.tf, k.label))


def keyword_maps(rows: list[KeywordWeek]) -> tuple[KeywordMap[EmergencePoint], KeywordMap[IssuePoint]]:
    """The Keyword Emergence Map (tf against DoV growth) and Issue Map (df against DoD growth)."""
    shown = map_keywords(rows)
    tf_split, dov_split = _medians([k.tf for k in shown], [k.dov_growth for k in shown])
    df_split, dod_split = _medians([k.df for k in shown], [k.dod_growth for k in shown])
    emergence: KeywordMap[EmergencePoint] = {
        "x": "tf", "y": "dov_growth", "x_split": rounded(tf_split), "y_split": rounded(dov_split),
        "points": [{"label": k.label, "lang": k.lang, "tf": k.tf, "dov_growth": k.dov_growth,
                    "quadrant": quadrant(k.tf, k.dov_growth, tf_split, dov_split)} for k in shown],
    }
    issue: KeywordMap[IssuePoint] = {
        "x": "df", "y": "dod_growth", "x_split": rounded(df_split), "y_split": rounded(dod_split),
        "points": [{"label": k.label, "lang": k.lang, "df": k.df, "dod_growth": k.dod_growth,
                    "quadrant": quadrant(k.df, k.dod_growth, df_split, dod_split)} for k in shown],
    }
    return emergence, issue


def _medians(xs: list[int], ys: list[float]) -> tuple[float, float]:
    """Where a map splits: the medians of what it shows (1 and 0 for an empty map)."""
    return (median(xs) if xs else 1.0), (median(ys) if ys else 0.0)


def volume_chart(config: Config, store: Store, history: list[str]) -> VolumeChart:
    """Items per week over ``history``: relevant items by their first topic once relevance is computed,
    else all items."""
    tz = config.settings.timezone
    names = {t.id: (t.name or t.id) for t in config.topics}
    items = q.fetch_items_between(store, iso(week_start(history[0], tz)), iso(week_end(history[-1], tz)))
    analysed = any(i.relevant is not None for i in items)
    per_week: dict[str, Counter[str]] = {}
    for i in items:
        if analysed and not i.relevant:
            continue
        key = (i.topics[0] if i.topics else "other") if analysed else "all items"
        per_week.setdefault(key, Counter())[iso_week(parse_iso(i.published), tz)] += 1
    order = sorted(per_week, key=lambda k: (-sum(per_week[k].values()), k))
    series: list[VolumeSeries] = [{"id": k, "name": names.get(k, k), "counts": [per_week[k][w] for w in history]}
                                  for k in order[:VOLUME_SERIES]]
    if len(order) > VOLUME_SERIES:
        rest = Counter[str]()
        for k in order[VOLUME_SERIES:]:
            rest.update(per_week[k])
        series.append({"id": "_other", "name": "other topics", "counts": [rest[w] for w in history]})
    return {"weeks": history, "relevant_only": analysed, "series": series}
