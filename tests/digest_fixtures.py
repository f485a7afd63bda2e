"""Controlled, realistic data for the digest tests: the 700 real thaigov press releases spread over
five sources, grouped into hand-named signals by title terms, with weekly counts, DoV/DoD scores,
states, keyword scores, relevance and fetch history written straight into the engine's tables.

``scanner analyse`` fills these tables for real; this module stands in for it so the
digest can be tested on its own, deterministically. ``fill_history`` is the entry point.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scanner.clock import iso, iso_week, shift_week, weeks_between
from scanner.normalize import tokenize
from scanner.store import Store

TZ = "Asia/Bangkok"
CREATED = "2024-08-01T00:00:00+00:00"
TW = 0.05
GROWTH_WEEKS = 4

SOURCES = [
    # id, name, kind
    ("thaigov", "ทำเนียบรัฐบาล Thai Government", "rss"),
    ("mdes", "กระทรวงดีอี MDES news", "rss"),
    ("dga", "สพร. DGA news", "html"),
    ("opendata", "data.go.th open data", "ckan"),
    ("lab-survey", "Lab survey notes", "file"),
]

TOPICS = {
    "digital_government": "digital-government",
    "cyber_security": "cyber-fraud",
    "digital_economy": "digital-economy",
}

CONFIG_YAML = """
settings:
  timezone: Asia/Bangkok
  reports_dir: reports
sources:
  - {id: thaigov, name: "ทำเนียบรัฐบาล Thai Government", kind: rss, url: "https://www.thaigov.go.th/rss"}
  - {id: mdes, name: "กระทรวงดีอี MDES news", kind: rss, url: "https://www.mdes.go.th/rss"}
  - {id: dga, name: "สพร. DGA news", kind: rss, url: "https://www.dga.or.th/rss"}
  - {id: lab-survey, name: "Lab survey notes", kind: file, path: survey.jsonl}
topics:
  - id: digital-government
    name: "Digital government and e-services"
    description_th: "รัฐบาลดิจิทัล"
    description_en: "Digital government"
  - id: cyber-fraud
    name: "Cyber security and online fraud"
    description_th: "ภัยไซเบอร์"
    description_en: "Cyber security"
  - id: digital-economy
    name: "Digital economy and platforms"
    description_th: "เศรษฐกิจดิจิทัล"
    description_en: "Digital economy"
"""


@dataclass
class SignalSpec:
    key: str
    title: str
    terms: list[str]
    th: list[str]
    en: list[str]
    tags: dict[str, list[str]]
    topics: list[str] = field(default_factory=list)


SIGNALS = [
    SignalSpec("mule", "บัญชีม้าและแก๊งคอลเซ็นเตอร์", ["บัญชีม้า", "คอลเซ็นเตอร์", "แก๊ง", "SMS", "ซิม"],
               ["บัญชีม้า", "แก๊งคอลเซ็นเตอร์", "ซิมการ์ด", "ตัดสัญญาณ"], ["mule accounts", "call-centre gangs", "SIM"],
               {"steepv": ["political", "social"], "themes": ["building trust in government"], "sdgs": ["SDG 16"]},
               ["cyber-fraud"]),
    SignalSpec("fake", "ดีอีเตือนข่าวปลอม", ["ข่าวปลอม"], ["ข่าวปลอม", "ศูนย์ต่อต้านข่าวปลอม", "แชร์"],
               ["fake news", "anti-fake news centre"],
               {"steepv": ["social", "values"], "themes": ["building trust in government"], "sdgs": ["SDG 16"]},
               ["cyber-fraud"]),
    SignalSpec("ai", "AI ในภาครัฐและเศรษฐกิจ", ["AI", "ปัญญาประดิษฐ์"], ["ปัญญาประดิษฐ์", "ภาครัฐ", "ทักษะ"],
               ["AI", "artificial intelligence", "skills"],
               {"steepv": ["technological"], "themes": ["government innovation", "digital transformation"],
                "sdgs": ["SDG 9"]}, ["digital-economy"]),
    SignalSpec("pdpa", "ข้อมูลส่วนบุคคลรั่วไหล", ["ข้อมูลส่วนบุคคล"], ["ข้อมูลส่วนบุคคล", "สคส.", "รั่วไหล"],
               ["personal data", "PDPA", "data leak"],
               {"steepv": ["political", "values"], "themes": ["building trust in government"], "sdgs": ["SDG 16"]},
               ["cyber-fraud"]),
    SignalSpec("tangrat", "แอปทางรัฐ บริการภาครัฐออนไลน์", ["ทางรัฐ"], ["ทางรัฐ", "บริการออนไลน์", "แอปพลิเคชัน"],
               ["Tang Rat app", "e-services"],
               {"steepv": ["technological", "social"], "themes": ["digital transformation"], "sdgs": ["SDG 16"]},
               ["digital-government"]),
    SignalSpec("wallet", "เงินดิจิทัล 10,000 บาท", ["ดิจิทัลวอลเล็ต", "เงินดิจิทัล", "Digital Wallet"],
               ["เงินดิจิทัล", "ดิจิทัลวอลเล็ต"], ["digital wallet", "cash handout"],
               {"steepv": ["economic"], "themes": ["digital transformation"], "sdgs": ["SDG 17"]},
               ["digital-economy"]),
    SignalSpec("cloud", "ศูนย์ข้อมูลและคลาวด์", ["Data Center", "คลาวด์", "Cloud"], ["คลาวด์", "ศูนย์ข้อมูล"],
               ["data centre", "cloud"],
               {"steepv": ["economic", "technological"], "themes": ["digital transformation"], "sdgs": ["SDG 9"]},
               ["digital-economy"]),
    SignalSpec("cyber", "ภัยคุกคามไซเบอร์", ["ไซเบอร์"], ["ภัยไซเบอร์", "สกมช.", "ความมั่นคงปลอดภัย"],
               ["cyber threats", "NCSA"],
               {"steepv": ["technological", "political"], "themes": ["building trust in government"],
                "sdgs": ["SDG 16"]}, ["cyber-fraud"]),
    SignalSpec("dgov", "รัฐบาลดิจิทัลและ สพร.", ["รัฐบาลดิจิทัล", "สพร"], ["รัฐบาลดิจิทัล", "สพร.", "บริการภาครัฐ"],
               ["digital government", "DGA"],
               {"steepv": ["political"], "themes": ["digital transformation", "government innovation"],
                "sdgs": ["SDG 16", "SDG 17"]}, ["digital-government"]),
    SignalSpec("scam", "โจรออนไลน์และมิจฉาชีพ", ["มิจฉาชีพ", "โจร", "ฉ้อโกง"], ["โจรออนไลน์", "มิจฉาชีพ", "หลอกลวง"],
               ["online scams", "fraud"],
               {"steepv": ["social"], "themes": ["building trust in government"], "sdgs": ["SDG 16"]},
               ["cyber-fraud"]),
    SignalSpec("semi", "เซมิคอนดักเตอร์", ["เซมิคอนดักเตอร์"], ["เซมิคอนดักเตอร์", "การลงทุน"],
               ["semiconductors", "investment"], {"steepv": ["economic"], "themes": [], "sdgs": ["SDG 9"]},
               ["digital-economy"]),
]


def published_iso(day: str) -> str:
    """The sample's dates are days; store them as 10:00 Bangkok (03:00 UTC)."""
    return f"{day[:10]}T03:00:00+00:00"


def source_for(row: dict[str, Any], n: int) -> str:
    """Spread the sample over the five sources deterministically."""
    title = row["title"]
    if "ดีอี" in title:
        return "mdes"
    if row.get("label") == "digital_government":
        return "dga" if n % 3 else "opendata"
    if n % 11 == 0 and row["published"] < "2025-02-01":
        return "lab-survey"
    return "thaigov"


def insert_sources(store: Store, sources: list[tuple[str, str, str]] = SOURCES, created: str = CREATED) -> None:
    with store.transaction() as conn:
        for sid, name, kind in sources:
            conn.execute("INSERT OR REPLACE INTO sources (id, name, kind, url, created_at, updated_at) "
                         "VALUES (?,?,?,?,?,?)", (sid, name, kind, f"https://example.org/{sid}", created, created))


def insert_item(store: Store, source_id: str, title: str, published: str, url: str | None, lang: str = "th",
                body: str = "", relevant: bool | None = True, topics: list[str] | None = None) -> int:
    """One item (and its relevance row unless ``relevant`` is None); returns its id."""
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO items (source_id, item_key, url, canonical_url, title, summary, lang, published, first_seen, "
            "last_seen, updated_at, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (source_id, url or f"key:{source_id}:{title}:{published}", url, url, title, body[:300], lang, published,
             published, published, published, f"h{source_id}{title}{published}"))
        item_id = int(cur.lastrowid or 0)
        if relevant is not None:
            conn.execute("INSERT INTO item_relevance (item_id, content_hash, model, relevance, relevant, topics, "
                         "computed_at) VALUES (?,?,?,?,?,?,?)",
                         (item_id, "h", "fixture", 0.9 if relevant else 0.1, int(relevant),
                          json.dumps(topics or []), published))
    return item_id


def add_signal(store: Store, title: str, first_seen: str, last_seen: str, state: str = "weak",
               keywords: dict[str, list[str]] | None = None, tags: dict[str, list[str]] | None = None,
               topics: list[str] | None = None) -> int:
    kw = keywords or {"th": [], "en": []}
    kw = {"th": kw.get("th", []), "en": kw.get("en", []), "all": kw.get("th", []) + kw.get("en", [])}
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO signals (title, keywords, state, topics, tags, first_seen, last_seen, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (title, json.dumps(kw, ensure_ascii=False), state, json.dumps(topics or []),
             json.dumps(tags or {}, ensure_ascii=False), first_seen, last_seen, CREATED, CREATED))
    return int(cur.lastrowid or 0)


def assign(store: Store, item_id: int, signal_id: int, similarity: float, week: str) -> None:
    with store.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO signal_items (item_id, signal_id, similarity, assigned_week) "
                     "VALUES (?,?,?,?)", (item_id, signal_id, similarity, week))


def set_week(store: Store, signal_id: int, week: str, items: int, sources: int = 1, kinds: int = 1,
             dov: float | None = None, dod: float | None = None, dov_growth: float | None = None,
             dod_growth: float | None = None, state: str | None = None) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO signal_weeks (signal_id, week, items, stories, sources, source_kinds, dov, dod, "
            "dov_growth, dod_growth, state) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (signal_id, week, items, items, sources, kinds, dov, dod, dov_growth, dod_growth, state))


def _growth(values: list[float]) -> float:
    """Geometric-mean growth rate of consecutive ratios (zeros smoothed)."""
    vals = [v + 0.02 for v in values]
    ratios = [b / a for a, b in itertools.pairwise(vals)]
    return math.prod(ratios) ** (1 / len(ratios)) - 1 if ratios else 0.0


def _scores(tf: dict[str, float], nn: dict[str, float], week: str) -> tuple[float, float]:
    """Yoon's time-weighted DoV (or DoD) this week and its growth over the last weeks."""
    span = weeks_between(shift_week(week, -(GROWTH_WEEKS - 1)), week)
    vals = [(tf.get(w, 0) / nn[w] if nn.get(w) else 0.0) * (1 - TW * (len(span) - 1 - j)) for j, w in enumerate(span)]
    return vals[-1], _growth(vals)


def fill_history(store: Store, rows: list[dict[str, Any]], until: str = "2025-W13") -> dict[str, Any]:
    """Load ``rows`` (thaigov sample) published up to the end of ``until`` and derive every table the
    digest reads. Returns ``{"signals": {key: id}, "items": {sample id: item id}, "weeks": [...]}``."""
    insert_sources(store)
    item_ids: dict[str, int] = {}
    week_of: dict[int, str] = {}
    meta: dict[int, dict[str, Any]] = {}
    kinds = {s[0]: s[2] for s in SOURCES}
    for n, r in enumerate(sorted(rows, key=lambda r: (r["published"], r["id"]))):
        pub = published_iso(r["published"])
        week = iso_week(datetime.fromisoformat(pub), TZ)
        if week > until:
            continue
        src = source_for(r, n)
        topic = TOPICS.get(r.get("label", ""))
        iid = insert_item(store, src, r["title"], pub, r["url"], r.get("lang", "th"), r.get("body", ""),
                          relevant=bool(r["relevant"]), topics=[topic] if topic else [])
        item_ids[r["id"]] = iid
        week_of[iid] = week
        meta[iid] = {"title": r["title"], "source": src, "kind": kinds[src], "relevant": bool(r["relevant"])}
    weeks = sorted(set(week_of.values()))
    all_weeks = weeks_between(weeks[0], until)
    # Signals: the first spec whose term is in the title.
    members: dict[str, list[int]] = defaultdict(list)
    for iid, m in sorted(meta.items()):
        for spec in SIGNALS:
            if any(t.lower() in m["title"].lower() for t in spec.terms):
                members[spec.key].append(iid)
                break
    nn_items = Counter(week_of.values())
    ids: dict[str, int] = {}
    per_week_items: dict[str, dict[str, int]] = {}
    for spec in SIGNALS:
        its = members.get(spec.key, [])
        if not its:
            continue
        first = min(week_of[i] for i in its)
        last = max(week_of[i] for i in its)
        sid = add_signal(store, spec.title, first, last, keywords={"th": spec.th, "en": spec.en}, tags=spec.tags,
                         topics=spec.topics)
        ids[spec.key] = sid
        for k, iid in enumerate(its):
            assign(store, iid, sid, round(0.95 - (k % 17) * 0.02, 3), week_of[iid])
        per_week_items[spec.key] = dict(Counter(week_of[i] for i in its))
    # Per-week scores and states.
    with store.transaction() as conn:
        for w in all_weeks:
            totals = {}
            for key, counts in per_week_items.items():
                totals[key] = sum(counts.get(x, 0) for x in weeks_between(shift_week(w, -(GROWTH_WEEKS - 1)), w))
            live = [v for k, v in totals.items() if min(per_week_items[k]) <= w]
            median = statistics.median(live) if live else 0
            for spec in SIGNALS:
                if spec.key not in ids or min(per_week_items[spec.key]) > w:
                    continue
                sid, counts = ids[spec.key], per_week_items[spec.key]
                week_members = [i for i in members[spec.key] if week_of[i] == w]
                dov, dov_g = _scores(counts, nn_items, w)
                srcs = Counter(meta[i]["source"] for i in members[spec.key])
                dod, dod_g = _scores({x: len({meta[i]["source"] for i in members[spec.key] if week_of[i] == x})
                                      for x in counts}, {x: len(srcs) or 1 for x in all_weeks}, w)
                recent = weeks_between(shift_week(w, -2), w)
                if min(counts) == w:
                    state = "new"
                elif not any(counts.get(x) for x in recent):
                    state = "fading"
                else:
                    hi_f, hi_g = totals[spec.key] >= max(median, 4), dov_g > 0.05
                    state = {(False, True): "weak", (True, True): "strong", (False, False): "latent",
                             (True, False): "established"}[(hi_f, hi_g)]
                conn.execute(
                    "INSERT INTO signal_weeks (signal_id, week, items, stories, sources, source_kinds, dov, dod, "
                    "dov_growth, dod_growth, state, keywords) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (sid, w, len(week_members), len(week_members), len({meta[i]["source"] for i in week_members}),
                     len({meta[i]["kind"] for i in week_members}), round(dov, 6), round(dod, 6), round(dov_g, 6),
                     round(dod_g, 6), state, "{}"))
                if state == "new":
                    conn.execute("INSERT INTO signal_events (signal_id, week, event, detail, created_at) "
                                 "VALUES (?,?,?,?,?)", (sid, w, "born", "{}", CREATED))
                conn.execute("UPDATE signals SET state = ?, last_seen = ? WHERE id = ?",
                             (state, max(x for x in counts if x <= w), sid))
    fill_keyword_weeks(store, meta, week_of, all_weeks)
    add_fetches(store, until)
    return {"signals": ids, "items": item_ids, "weeks": all_weeks}


def fill_keyword_weeks(store: Store, meta: dict[int, dict[str, Any]], week_of: dict[int, str],
                       weeks: list[str]) -> None:
    """Keyword tf/df per week over relevant titles (newmm tokens), with DoV/DoD and growth."""
    from pythainlp.corpus import thai_stopwords

    stop = set(thai_stopwords()) | {"ดีอี", "เตือน", "ประชาชน", "ไทย", "รัฐบาล", "นายกฯ", "นายกรัฐมนตรี", "ดี", "อี",
                                        "รอง", "จ.", "ล้าน", "บาท", "ประเสริฐ", "ประชุม"}
    tf: dict[str, Counter[str]] = defaultdict(Counter)
    df: dict[str, Counter[str]] = defaultdict(Counter)
    nn: Counter[str] = Counter()
    docs: Counter[str] = Counter()
    for iid, m in sorted(meta.items()):
        if not m["relevant"]:
            continue
        w = week_of[iid]
        toks = [t for t in tokenize(m["title"]) if len(t) > 1 and t not in stop and not t.isdigit()]
        nn[w] += len(toks)
        docs[w] += 1
        for t in toks:
            tf[t][w] += 1
        for t in set(toks):
            df[t][w] += 1
    rows = []
    for word in sorted(tf):
        if sum(tf[word].values()) < 3:
            continue
        lang = "en" if word.isascii() else "th"
        for w in weeks:
            if not tf[word].get(w):
                continue
            dov, dov_g = _scores(tf[word], nn, w)
            dod, dod_g = _scores(df[word], docs, w)
            rows.append((word, lang, w, tf[word][w], df[word][w], round(dov, 6), round(dod, 6), round(dov_g, 6),
                         round(dod_g, 6)))
    with store.transaction() as conn:
        conn.executemany("INSERT INTO keyword_weeks (keyword, lang, week, tf, df, dov, dod, dov_growth, dod_growth) "
                         "VALUES (?,?,?,?,?,?,?,?,?)", rows)


def add_fetches(store: Store, week: str) -> None:
    """A failing DGA fetch in ``week``, healthy fetches elsewhere; the survey source goes quiet."""
    from scanner.clock import week_start

    start = week_start(week, TZ)
    with store.transaction() as conn:
        for day in range(0, 7, 2):
            at = iso(start.replace(tzinfo=UTC) + _days(day))
            for sid in ("thaigov", "mdes", "opendata"):
                conn.execute("INSERT INTO fetches (source_id, started_at, finished_at, status, items_new) "
                             "VALUES (?,?,?,?,?)", (sid, at, at, "ok", 3))
            conn.execute("INSERT INTO fetches (source_id, started_at, finished_at, status, http_status, error) "
                         "VALUES (?,?,?,?,?,?)", ("dga", at, at, "failed", 503,
                                                  "HTTP 503 Service Unavailable from www.dga.or.th (after 3 tries)"))


def _days(n: int) -> Any:
    from datetime import timedelta

    return timedelta(days=n, hours=1)


def write_config(folder: Any, extra: str = "") -> Any:
    """Write ``sources.yaml`` (plus the survey file it names) into ``folder`` and load it."""
    from pathlib import Path

    from scanner.config import load_config

    folder = Path(folder)
    (folder / "survey.jsonl").write_text("", encoding="utf-8")
    path = folder / "sources.yaml"
    path.write_text(CONFIG_YAML.lstrip("\n") + extra, encoding="utf-8")
    return load_config(path)


THAIGOV_PATH = __import__("pathlib").Path(__file__).resolve().parent.parent / "demo" / "data" / "thaigov_sample.jsonl"

HOSTILE_TITLE = '<script>alert("x")</script><img src=x onerror="alert(1)"> ข่าวปลอม <b onmouseover=alert(2)>'
HOSTILE_URLS = ["javascript:alert(document.cookie)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
                " JaVaScRiPt:alert(3)", "vbscript:msgbox(1)"]


def add_hostile_item(store: Store, week: str) -> int:
    """A signal whose title, keywords, tags and items carry script, event handlers and bad URLs."""
    from scanner.clock import week_start

    pub = iso(week_start(week, TZ) + _days(2))
    sid = add_signal(store, HOSTILE_TITLE, week, week, state="new",
                     keywords={"th": ["<script>alert(4)</script>"], "en": ['"><svg onload=alert(5)>']},
                     tags={"steepv": ["<iframe src=javascript:alert(6)>"], "themes": [], "sdgs": []})
    ids = []
    for n, url in enumerate(HOSTILE_URLS):
        iid = insert_item(store, "thaigov", f"{HOSTILE_TITLE} {n}", pub, url, relevant=True,
                          topics=["<script>alert(7)</script>"])
        assign(store, iid, sid, 0.9 - n / 100, week)
        ids.append(iid)
    set_week(store, sid, week, items=len(ids), sources=1, kinds=1, dov=0.1, dod=0.1, dov_growth=None,
             dod_growth=None, state="new")
    with store.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO keyword_weeks (keyword, lang, week, tf, df, dov, dod, dov_growth, "
                     "dod_growth) VALUES (?,?,?,?,?,?,?,?,?)",
                     ('<img src=x onerror="alert(8)">', "en", week, 40, 30, 0.1, 0.1, 0.5, 0.5))
    return sid


def load_thaigov() -> list[dict[str, Any]]:
    with THAIGOV_PATH.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def build_base_db(folder: Any, until: str = "2025-W12") -> Any:
    """A closed ``signals.db`` in ``folder`` filled by ``fill_history``; returns (path, info)."""
    from pathlib import Path

    path = Path(folder) / "base.db"
    store = Store.open(path)
    info = fill_history(store, load_thaigov(), until)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path, info


def copy_db(base: Any, folder: Any) -> Store:
    """A private, writable copy of a base database, opened."""
    import shutil
    from pathlib import Path

    target = Path(folder) / "signals.db"
    shutil.copyfile(base, target)
    return Store.open(target)
