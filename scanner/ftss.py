"""UNDP's Future Trends and Signals System (FTSS): the signals analysts kept, as FTSS signals, and
publishing them (``scanner export signals --format ftss``, ``scanner publish ftss``).

FTSS's vocabulary below is data copied verbatim from its own source, UNDP-Data/ftss-api on GitHub:

- ``src/entities/utils.py`` (commit 52b207d866cc5e2498c976fe8a0530bbab786d53): the enumerations
  ``Status``, ``Steep``, ``Signature``, ``Goal`` and ``Score`` (mind the en dash – in STEEP+V and
  the em dash — in the scores);
- ``src/entities/base.py`` (commit cb5ec8c166174b1abdcf48d05e6418cff0074930) and
  ``src/entities/signal.py`` (commit cd47b8dd6906926610970b6c6c89b3eb35c2a1a0): the signal's fields;
  "Use up to 3 clear, simple keywords" is the ``keywords`` field's description;
- ``src/routers/signals.py`` (commit 2562612ba2c350225ab5a735afd47c43ed747bab): ``POST /signals``
  answers 201 with the stored signal (its ``id``); ``PUT /signals/{uid}`` needs ``uid`` equal to the
  body's ``id``; ``GET /signals/{uid}`` reads one;
- ``src/authentication.py`` (commit ea4fe93a12031eba07343639cdb6865bbc9287b3): the token goes in the
  ``access_token`` header.

A re-publish reads the remote signal first and keeps its ``status``: a curator's ``Approved`` is
never put back to ``Draft`` by the scanner.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scanner.analysis.score import RECENT_WEEKS, STATE_LABELS
from scanner.clock import iso, shift_week
from scanner.config import Config
from scanner.digest.prose import plural, state_sentence
from scanner.errors import FetchError, HTTPStatusError
from scanner.http import HttpClient
from scanner.normalize import http_url
from scanner.store import Store
from scanner.store.exports import SignalRecord, signal_records
from scanner.store.ftss import record_remote_id, remote_ids
from scanner.store.ratings import all_rating_summaries
from scanner.store.reviews import reviews_by_signal, summarise_reviews

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- FTSS's vocabulary (verbatim)

STATUS = {"DRAFT": "Draft", "NEW": "New", "APPROVED": "Approved", "ARCHIVED": "Archived"}

STEEP = {
    "SOCIAL": "Social – Issues related to human culture, demography, communication, movement and migration, "
              "work and education",
    "TECHNOLOGICAL": "Technological – Made culture, tools, devices, systems, infrastructure and networks",
    "ECONOMIC": "Economic – Issues of value, money, financial tools and systems, business and business models, "
                "exchanges and transactions",
    "ENVIRONMENTAL": "Environmental – The natural world, living environment, sustainability, resources, climate "
                     "and health",
    "POLITICAL": "Political – Legal issues, policy, governance, rules and regulations and organizational systems",
    "VALUES": "Values – Ethics, spirituality, ideology or other forms of values",
}

SIGNATURE = {
    "POVERTY": "Poverty and Inequality",
    "GOVERNANCE": "Governance",
    "RESILIENCE": "Resilience",
    "ENVIRONMENT": "Environment",
    "ENERGY": "Energy",
    "GENDER": "Gender Equality",
    # 3 enablers
    "INNOVATION": "Strategic Innovation",
    "DIGITALISATION": "Digitalisation",
    "FINANCING": "Development Financing",
}

GOAL = {
    "G1": "GOAL 1: No Poverty",
    "G2": "GOAL 2: Zero Hunger",
    "G3": "GOAL 3: Good Health and Well-being",
    "G4": "GOAL 4: Quality Education",
    "G5": "GOAL 5: Gender Equality",
    "G6": "GOAL 6: Clean Water and Sanitation",
    "G7": "GOAL 7: Affordable and Clean Energy",
    "G8": "GOAL 8: Decent Work and Economic Growth",
    "G9": "GOAL 9: Industry, Innovation and Infrastructure",
    "G10": "GOAL 10: Reduced Inequality",
    "G11": "GOAL 11: Sustainable Cities and Communities",
    "G12": "GOAL 12: Responsible Consumption and Production",
    "G13": "GOAL 13: Climate Action",
    "G14": "GOAL 14: Life Below Water",
    "G15": "GOAL 15: Life on Land",
    "G16": "GOAL 16: Peace and Justice Strong Institutions",
    "G17": "GOAL 17: Partnerships to achieve the Goal",
}

SCORE = {
    "ONE": "1 — Non-novel (known, but potentially notable in particular context)",
    "TWO": "2",
    "THREE": "3 — Potentially novel or uncertain, but not clear in its potential impact",
    "FOUR": "4",
    "FIVE": "5 — Something that introduces or points to a potentially interesting or consequential change in "
            "direction of trends",
}
SCORES = tuple(SCORE.values())  # novelty 1 … 5

# The fields of FTSS's ``Signal`` (``BaseMetadata`` + ``BaseEntity`` + ``Signal``), in its order.
SIGNAL_FIELDS = ("id", "created_at", "status", "created_by", "created_for", "modified_at", "modified_by", "headline",
                 "description", "attachment", "steep_primary", "steep_secondary", "signature_primary",
                 "signature_secondary", "sdgs", "created_unit", "url", "relevance", "keywords", "location", "score",
                 "connected_trends", "favorite")
MAX_KEYWORDS = 3

# --------------------------------------------------------------------------- our tags → FTSS

# (tag group, tag id) of ``scanner.analysis.tags.DEFAULT_TAGS`` → (FTSS field family, FTSS value).
# Any ``sdgN`` tag, in whatever group the lab configures, is FTSS's ``GOAL N``.
TAG_MAP: dict[tuple[str, str], tuple[str, str]] = {
    ("steepv", "social"): ("steep", STEEP["SOCIAL"]),
    ("steepv", "technological"): ("steep", STEEP["TECHNOLOGICAL"]),
    ("steepv", "economic"): ("steep", STEEP["ECONOMIC"]),
    ("steepv", "environmental"): ("steep", STEEP["ENVIRONMENTAL"]),
    ("steepv", "political"): ("steep", STEEP["POLITICAL"]),
    ("steepv", "values"): ("steep", STEEP["VALUES"]),
    ("themes", "digital_transformation"): ("signature", SIGNATURE["DIGITALISATION"]),
    ("themes", "trust_in_government"): ("signature", SIGNATURE["GOVERNANCE"]),
    ("themes", "government_innovation"): ("signature", SIGNATURE["INNOVATION"]),
    ("sdgs", "sdg9"): ("sdg", GOAL["G9"]),
    ("sdgs", "sdg16"): ("sdg", GOAL["G16"]),
    ("sdgs", "sdg17"): ("sdg", GOAL["G17"]),
}
SDG_RE = re.compile(r"sdg\s*(\d{1,2})", re.IGNORECASE)

# A state's name in Thai, for descriptions in Thai (``ftss.language: th``).
STATE_LABELS_TH = {"new": "สัญญาณใหม่", "weak": "สัญญาณอ่อน", "strong": "สัญญาณแรง", "latent": "สัญญาณแฝง",
                   "established": "สัญญาณที่ตั้งตัวแล้ว", "fading": "สัญญาณที่กำลังจางหาย"}
VERDICT_CHOICES = ("keep", "watch", "all")


@dataclass
class FtssSignal:
    """One of our signals as an FTSS signal body."""

    signal_id: int
    name: str
    payload: dict[str, Any]


@dataclass
class PublishResult:
    signal_id: int
    name: str
    action: str  # created | updated | failed | would create | would update
    remote_id: int | None = None
    error: str | None = None
    request: dict[str, Any] = field(default_factory=dict)  # dry run: method, url and body


def map_tags(tags: dict[str, list[str]]) -> dict[str, Any]:
    """Our tags (each group best first) as FTSS's ``steep_*``, ``signature_*`` and ``sdgs``."""
    found: dict[str, list[str]] = {"steep": [], "signature": [], "sdg": []}
    for group, ids in tags.items():
        for tag in ids if isinstance(ids, list) else []:
            hit = TAG_MAP.get((group, str(tag)))
            m = SDG_RE.fullmatch(str(tag).strip())
            if hit is None and m and f"G{int(m.group(1))}" in GOAL:
                hit = ("sdg", GOAL[f"G{int(m.group(1))}"])
            if hit and hit[1] not in found[hit[0]]:
                found[hit[0]].append(hit[1])
    steep, sig = found["steep"], found["signature"]
    return {"steep_primary": steep[0] if steep else None, "steep_secondary": steep[1:] or None,
            "signature_primary": sig[0] if sig else None, "signature_secondary": sig[1:] or None,
            "sdgs": sorted(found["sdg"], key=lambda g: int(g.split()[1].rstrip(":"))) or None}


def score_for(novelty: float | None) -> str | None:
    """The median novelty rating (1–5) as FTSS's score string, halves rounded up; ``None`` when unrated."""
    if novelty is None:
        return None
    return SCORES[min(5, max(1, math.floor(novelty + 0.5))) - 1]


def representative_url(record: SignalRecord) -> str | None:
    """The link of the item whose headline is the signal's example, else of its most similar member."""
    members = sorted(record["items"], key=lambda m: -(m["similarity"] or 0.0))
    example = (record["example"] or "").strip()
    for m in ([m for m in members if example and (m["title"] or "").strip() == example] + members):
        if url := http_url(m["url"]):
            return url
    return None


def describe(record: SignalRecord, config: Config) -> str:
    """The FTSS description: state and why (the digest's sentence), keywords and evidence."""
    weeks = sorted(record["weeks"], key=lambda w: w.week)
    ref = weeks[-1].week if weeks else record["last_seen"]  # the week its state was scored in
    latest = next((w for w in reversed(weeks) if w.items), weeks[-1] if weeks else None)  # its last week with items
    counts = {w.week: w.items for w in weeks}
    history = [shift_week(ref, -k) for k in reversed(range(config.analysis.window_weeks))]
    spark = [counts.get(w, 0) for w in history]
    recent, total = sum(spark[-RECENT_WEEKS:]), len(record["items"]) or sum(counts.values())
    sources = sorted({m["source_id"] for m in record["items"]})
    kw = record["keywords"]
    th, en = kw.get("th", [])[:5], kw.get("en", [])[:5]
    example = (record["example"] or "").strip()
    quoted = example if example[:1] in "“\"'«" else f"“{example}”"
    state = record["state"]
    if config.ftss.language == "th":
        r, before, n_before = RECENT_WEEKS, sum(spark[:-RECENT_WEEKS]), max(0, len(spark) - RECENT_WEEKS)
        parts = [f"{STATE_LABELS_TH.get(state, state)}: {recent} รายการใน {r} สัปดาห์ล่าสุด เทียบกับ {before} รายการ"
                 f"ใน {n_before} สัปดาห์ก่อนหน้า รวม {total} รายการ"]
        if th or en:
            parts.append("คำสำคัญ: " + ", ".join(th + en))
        parts.append(f"หลักฐาน: {total} รายการจาก {len(sources)} แหล่ง ({', '.join(sources[:3])}) "
                     f"พบครั้งแรก {record['first_seen']} ล่าสุด {record['last_seen']}")
        if example:
            parts.append(f"ตัวอย่าง: {quoted}")
        return " ".join(parts)
    spread = (f"{plural(latest.sources, 'source')} ({plural(latest.source_kinds, 'kind')} of source)"
              if latest else "no source")
    # The digest's sentence, with "this week" (the digest's) named: FTSS readers see no week.
    why = state_sentence(state, recent, spark, total, latest.items if latest else 0, spread, record["last_seen"],
                         config.analysis.fading_weeks).replace("this week", f"in {latest.week if latest else ref}")
    parts = [f"{STATE_LABELS.get(state, state)}. {why}"]
    if th:
        parts.append(f"Keywords (Thai): {', '.join(th)}.")
    if en:
        parts.append(f"Keywords (English): {', '.join(en)}.")
    parts.append(f"Evidence: {plural(total, 'item')} from {plural(len(sources), 'source')} "
                 f"({', '.join(sources[:3])}{', …' if len(sources) > 3 else ''}), first seen {record['first_seen']}, "
                 f"last seen {record['last_seen']}" + (f"; most representative: {quoted}." if example else "."))
    return " ".join(parts)


def build_payloads(store: Store, config: Config, verdict: str = "keep") -> list[FtssSignal]:
    """The signals whose analysts' verdict is ``verdict`` (``all``: every signal that is not merged), as
    FTSS signal bodies, in id order."""
    if verdict not in VERDICT_CHOICES:
        raise ValueError(f"verdict is one of {', '.join(VERDICT_CHOICES)}")
    reviews = reviews_by_signal(store)
    ratings = all_rating_summaries(store)
    out = []
    for r in signal_records(store):
        rows = reviews.get(r["id"], [])
        if verdict != "all" and summarise_reviews(rows).effective != verdict:
            continue
        notes = list(dict.fromkeys(n for n in ((row.note or "").strip() for row in rows) if n))
        kw = r["keywords"]
        keywords = list(dict.fromkeys(kw.get("all") or (kw.get("th", []) + kw.get("en", []))))[:MAX_KEYWORDS]
        rating = ratings.get(r["id"])
        payload: dict[str, Any] = {
            "status": STATUS["DRAFT"],
            "headline": r["name"],
            "description": describe(r, config),
            **map_tags(r["tags"]),
            "created_unit": config.ftss.created_unit,
            "url": representative_url(r),
            "relevance": " ".join(_sentence(n) for n in notes) or None,
            "keywords": keywords or None,
            "location": config.ftss.location,
            "score": score_for(rating.novelty if rating else None),
        }
        out.append(FtssSignal(r["id"], r["name"], payload))
    return out


# --------------------------------------------------------------------------- publishing


class MaybeCreatedError(HTTPStatusError):
    """FTSS answered a create (``POST /signals``) with a 5xx other than 503: it may have made the
    signal all the same, so the request is not sent again."""


def publish_signals(store: Store | None, client: HttpClient, base_url: str, token: str,
                    signals: Sequence[FtssSignal], now: datetime, dry_run: bool = False) -> list[PublishResult]:
    """Create each signal in FTSS at ``base_url`` (``POST /signals``), or update it when it was
    published there before (``GET`` then ``PUT /signals/{id}``, keeping FTSS's status), and store
    FTSS's id. One signal's failure does not stop the others. ``dry_run``: nothing is sent or stored;
    each result carries the request that would be made."""
    base = base_url.rstrip("/")
    ids = remote_ids(store, base) if store is not None else {}
    headers = {"access_token": token}
    results = []
    for s in signals:
        rid = ids.get(s.signal_id)
        label = f"signal {s.signal_id} “{s.name}”"
        if dry_run:
            method, url = ("PUT", f"{base}/signals/{rid}") if rid else ("POST", f"{base}/signals")
            body = {**s.payload, "id": rid} if rid else s.payload
            results.append(PublishResult(s.signal_id, s.name, "would update" if rid else "would create", rid,
                                         request={"method": method, "url": url, "body": body}))
            continue
        try:
            action, new_id = _send(client, base, s, rid, label, headers, token)
        except HTTPStatusError as e:
            error = explain_error(label, e)
            if isinstance(e, MaybeCreatedError):
                error += f"; FTSS may have created it anyway: look for “{s.name}” there before publishing again"
            results.append(PublishResult(s.signal_id, s.name, "failed", rid, error=error))
            continue
        except FetchError as e:
            error = str(e) if str(e).startswith(label) else f"{label}: {e}"  # the address guard names the host
            results.append(PublishResult(s.signal_id, s.name, "failed", rid, error=error))
            continue
        if store is not None:
            record_remote_id(store, s.signal_id, base, new_id, iso(now))
        logger.info("%s: %s as FTSS signal %s", label, action, new_id)
        results.append(PublishResult(s.signal_id, s.name, action, new_id))
    return results


def _send(client: HttpClient, base: str, s: FtssSignal, rid: int | None, label: str, headers: dict[str, str],
          token: str) -> tuple[str, int]:
    if rid is not None:
        try:
            remote = _json(client.send_json("GET", f"{base}/signals/{rid}", None, label=label, headers=headers,
                                            secrets=(token,)).content)
        except HTTPStatusError as e:
            if e.status != 404:
                raise
            logger.warning("%s: FTSS signal %s is gone; publishing it anew", label, rid)
        else:
            status = remote.get("status") if isinstance(remote, dict) else None
            body = {**s.payload, "id": rid, "status": status if status in STATUS.values() else s.payload["status"]}
            client.send_json("PUT", f"{base}/signals/{rid}", _encode(body), label=label, headers=headers,
                             secrets=(token,))
            return "updated", rid
    try:
        created = _json(client.send_json("POST", f"{base}/signals", _encode(s.payload), label=label, headers=headers,
                                         secrets=(token,), creates=True).content)
    except HTTPStatusError as e:
        if e.status >= 500:  # it may have been made, so it was not sent twice (``HttpClient.send_json``)
            raise MaybeCreatedError(str(e), e.status, e.body) from e
        raise
    new_id = created.get("id") if isinstance(created, dict) else None
    if not isinstance(new_id, int) or isinstance(new_id, bool):
        raise FetchError(f"{label}: FTSS answered without the new signal's id: is {base} the FTSS API?")
    return "created", new_id


def explain_error(label: str, e: HTTPStatusError) -> str:
    """What FTSS said was wrong, naming the signal and each field (FastAPI's ``detail``: a list of
    ``{loc, msg}`` for a 422, a string otherwise)."""
    answer = _json(e.body)
    detail = answer.get("detail") if isinstance(answer, dict) else None
    if e.status in (401, 403):
        return f"{label}: FTSS refused the access token (HTTP {e.status}): check the token and its role"
    if isinstance(detail, list) and detail:
        problems = []
        for d in detail:
            if not isinstance(d, dict):
                continue
            loc = [str(x) for x in d.get("loc", []) if x != "body"]
            problems.append(f"field {'.'.join(loc) or '(body)'}: {d.get('msg', 'invalid')}")
        return f"{label}: FTSS rejected it (HTTP {e.status}): " + "; ".join(problems)
    if isinstance(detail, str):
        return f"{label}: FTSS answered HTTP {e.status}: {detail}"
    return str(e)


def _sentence(note: str) -> str:
    """A note ending in a Latin letter or digit gets a full stop (Thai writes none)."""
    return note + "." if note[-1].isascii() and note[-1].isalnum() else note


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _json(content: bytes) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


__all__ = ["GOAL", "SCORE", "SIGNAL_FIELDS", "SIGNATURE", "STATUS", "STEEP", "TAG_MAP", "FtssSignal",
           "PublishResult", "build_payloads", "explain_error", "map_tags", "publish_signals", "score_for"]
