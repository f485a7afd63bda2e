"""The HTML pages and their forms. Each handler parses the request, checks one permission (``require``),
calls one library function and renders; every change is a POST with a CSRF token that redirects back
(303) to the page it came from."""

from __future__ import annotations

import functools
import math
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from scanner import accounts
from scanner.analysis.relevance import stored_explanation
from scanner.analysis.score import RECENT_WEEKS, STATES, state_rank
from scanner.clock import iso, last_complete_week, parse_iso
from scanner.config import Config
from scanner.digest import SITE_TITLE
from scanner.digest.build import build_digest
from scanner.digest.charts import render_sparkline
from scanner.digest.feed import list_digests
from scanner.digest.prose import pct, plural, state_sentence
from scanner.digest.render import STATE_COLOURS, render_card_sparkline, render_chart_svgs
from scanner.errors import UsageError
from scanner.export import show_signal
from scanner.normalize import http_url
from scanner.status import source_status, status_table
from scanner.store import RELEVANCE_FILTERS
from scanner.store.audit import audit_rows
from scanner.store.exports import signal_item_counts, signal_records
from scanner.store.labels import latest_labels, mark_item, move_item
from scanner.store.ratings import (
    HORIZONS,
    add_comment,
    all_rating_summaries,
    rate_signal,
    signal_comments,
    signal_ratings,
)
from scanner.store.relevance import decided_relevance
from scanner.store.reviews import (
    VERDICTS,
    add_review,
    list_reviews,
    merge_signals,
    rename_signal,
    reviews_by_signal,
    summarise_reviews,
)
from scanner.store.signals import load_assignments
from scanner.store.workspace import latest_analysis_as_of
from scanner.submit import SOURCE_ID, submit_url
from scanner.web import i18n
from scanner.web.auth import (
    SESSION_COOKIE,
    Actor,
    ActorDep,
    FormDep,
    StoreDep,
    csrf_token,
    now_of,
    require,
    session_id,
    sign_session,
)

router = APIRouter()

WEEK_FILE = re.compile(r"^\d{4}-W\d{2}\.(html|md|json)$")


@functools.cache
def environment() -> Environment:
    """The workspace's templates, plus the digest's (``week.html.j2`` extends ``digest.html.j2``)."""
    env = Environment(loader=ChoiceLoader([PackageLoader("scanner.web", "templates"),
                                           PackageLoader("scanner", "templates")]),
                      autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["pct"] = pct
    env.filters["link"] = http_url  # only http(s) links are clickable
    env.globals["STATE_COLOURS"] = STATE_COLOURS
    env.globals["sparkline"] = render_card_sparkline
    return env


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    lang = i18n.pick_language(request.cookies.get("lang"), request.headers.get("accept-language"))
    actor: Actor | None = getattr(request.state, "actor", None)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    page = environment().get_template(name).render(
        _=i18n.translator(lang), lang=lang, languages=[(code, i18n.NAMES.get(code, code)) for code in i18n.languages()],
        here=quote(here, safe=""), actor=actor, csrf=csrf_token(request), site_title=SITE_TITLE, **context)
    return HTMLResponse(page, status_code=status)


def config_of(request: Request) -> Config:
    config: Config = request.app.state.config
    return config


def back_to(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def local_path(target: str | None, default: str = "/") -> str:
    """Only a path on this site (no ``//host`` or scheme): no open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def as_int(value: str | None, name: str) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a number") from None


# ---------------------------------------------------------------------------------------------- sign in


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html.j2", {"next": local_path(next), "error": None})


@router.post("/login")
def login(request: Request, store: StoreDep, form: FormDep) -> Response:
    now = now_of(request)
    target = local_path(form.get("next"))
    result = accounts.authenticate(store, form.get("username", ""), form.get("password", ""), now)
    if result.user is None:
        _ = i18n.translator(i18n.pick_language(request.cookies.get("lang"), request.headers.get("accept-language")))
        if result.locked_until is not None:
            minutes = max(1, math.ceil((result.locked_until - now).total_seconds() / 60))
            error = _("Too many failed attempts: try again in %(minutes)s minutes.", minutes=minutes)
            return render(request, "login.html.j2", {"next": target, "error": error}, status=429)
        return render(request, "login.html.j2", {"next": target, "error": _("Wrong user name or password.")},
                      status=401)
    sid = accounts.start_session(store, result.user, now)
    response = back_to(target)
    response.set_cookie(SESSION_COOKIE, sign_session(request, sid), httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/",
                        max_age=int(accounts.SESSION_LIFETIME.total_seconds()))
    return response


@router.post("/logout")
def logout(request: Request, store: StoreDep, actor: ActorDep, form: FormDep) -> Response:
    accounts.end_session(store, actor.sid or session_id(request), now_of(request))
    response = back_to("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def set_language(code: str, next: str = "/") -> Response:
    response = back_to(local_path(next))
    if code in i18n.languages():
        response.set_cookie("lang", code, max_age=365 * 86400, samesite="lax", path="/")
    return response


# ---------------------------------------------------------------------------------------------- this week


def current_week(request: Request, store: Any) -> str:
    """The week whose digest the latest analysis would write: the last complete week at its "now"."""
    now = now_of(request)
    tz = config_of(request).settings.timezone
    latest = latest_analysis_as_of(store, iso(now))
    at = min(parse_iso(latest), now) if latest else now
    return last_complete_week(at, tz)


@router.get("/", response_class=HTMLResponse)
def this_week(request: Request, store: StoreDep, actor: Annotated[Actor, Depends(require("read"))],
              week: str | None = None) -> Response:
    config = config_of(request)
    default_week = current_week(request, store)
    chosen = week if week and re.fullmatch(r"\d{4}-W\d{2}", week) else default_week
    digest = build_digest(config, store, chosen, now_of(request))  # verdicts and notes recorded up to now show
    return render(request, "week.html.j2", {"d": digest, "svg": render_chart_svgs(digest), "workspace": True})


# ---------------------------------------------------------------------------------------------- signals


def signal_rows(store: Any, state: str = "", tag: str = "", verdict: str = "", q: str = "", rated: str = "",
                sort: str = "id", show_all: bool = False) -> list[dict[str, Any]]:
    """The signals list: filtered and sorted as the page (and ``/api/signals``) asks."""
    records = signal_records(store, state=state or None, include_merged=show_all, with_members=False)
    counts = signal_item_counts(store)
    reviews = reviews_by_signal(store)
    ratings = all_rating_summaries(store)
    needle = q.strip().casefold()
    rows = []
    for r in records:
        tags = [t for group in r["tags"].values() for t in group]
        if tag and tag not in tags:
            continue
        summary = summarise_reviews(reviews.get(r["id"], []))
        if verdict and (summary.effective or "none") != verdict:
            continue
        rating = ratings.get(r["id"])
        if (rated == "yes" and rating is None) or (rated == "no" and rating is not None):
            continue
        words = [r["name"], r["example"], *r["keywords"].get("all", []), *r["keywords"].get("th", []),
                 *r["keywords"].get("en", [])]
        if needle and not any(needle in w.casefold() for w in words):
            continue
        rows.append({"id": r["id"], "name": r["name"], "state": r["state"], "status": r["status"],
                     "keywords_th": r["keywords"].get("th", [])[:5], "keywords_en": r["keywords"].get("en", [])[:5],
                     "tags": tags, "items": counts.get(r["id"], 0), "first_seen": r["first_seen"],
                     "last_seen": r["last_seen"], "verdict": summary.effective, "verdict_text": summary.text,
                     "raters": rating.raters if rating else 0, "novelty": rating.novelty if rating else None,
                     "horizon": rating.horizon if rating else None, "impact": rating.impact if rating else None})
    keys = {"id": lambda x: x["id"], "name": lambda x: x["name"].casefold(), "items": lambda x: -x["items"],
            "last_seen": lambda x: x["last_seen"], "state": lambda x: state_rank(x["state"]),
            "novelty": lambda x: -(x["novelty"] or 0)}
    rows.sort(key=keys.get(sort, keys["id"]))
    if sort == "last_seen":
        rows.reverse()
    return rows


@router.get("/signals", response_class=HTMLResponse)
def signals_page(request: Request, store: StoreDep, actor: Annotated[Actor, Depends(require("read"))],
                 state: str = "", tag: str = "", verdict: str = "", q: str = "", rated: str = "",
                 sort: str = "id", all: str = "") -> Response:
    rows = signal_rows(store, state, tag, verdict, q, rated, sort, show_all=bool(all))
    all_tags = sorted({t for r in signal_rows(store) for t in r["tags"]})
    return render(request, "signals.html.j2", {
        "rows": rows, "states": STATES, "verdicts": VERDICTS, "tags": all_tags,
        "f": {"state": state, "tag": tag, "verdict": verdict, "q": q, "rated": rated, "sort": sort, "all": all}})


def signal_page_data(store: Any, signal_id: int, fading_weeks: int = 6) -> dict[str, Any]:
    found = show_signal(store, signal_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no signal with id {signal_id}")
    record, events = found
    weeks = record["weeks"][-26:]
    chart = render_sparkline([w.items for w in weeks], [w.week for w in weeks], width=640, height=80,
                             colour=STATE_COLOURS.get(record["state"], "#0072B2"))
    reviews = list_reviews(store, signal_id)
    latest = weeks[-1] if weeks else None
    members = [m["id"] for m in record["items"]]
    spark = [w.items for w in weeks[-12:]]
    why = state_sentence(record["state"], sum(spark[-RECENT_WEEKS:]), spark, len(record["items"]),
                         latest.items if latest else 0, plural(latest.sources if latest else 0, "source"),
                         record["last_seen"], fading_weeks) if weeks else ""
    return {"s": record, "events": events, "chart": Markup(chart), "reviews": reviews, "why": why,
            "summary": summarise_reviews(reviews), "ratings": signal_ratings(store, signal_id),
            "comments": signal_comments(store, signal_id),
            "audit": audit_rows(store, [f"signal:{signal_id}", *(f"item:{i}" for i in members)]),
            "marks": latest_labels(store, "relevance", members), "latest": latest, "weeks": weeks}


@router.get("/signals/{signal_id}", response_class=HTMLResponse)
def signal_page(request: Request, signal_id: int, store: StoreDep,
                actor: Annotated[Actor, Depends(require("read"))]) -> Response:
    data = signal_page_data(store, signal_id, config_of(request).analysis.fading_weeks)
    others = [r for r in signal_records(store, with_members=False) if r["id"] != signal_id]
    return render(request, "signal.html.j2", {**data, "verdicts": VERDICTS, "horizons": HORIZONS,
                                              "others": others[:500]})


@router.post("/signals/{signal_id}/review")
def review(request: Request, signal_id: int, store: StoreDep, actor: Annotated[Actor, Depends(require("review"))],
           form: FormDep) -> Response:
    add_review(store, signal_id, form.get("verdict", ""), actor.name, now_of(request), form.get("note"))
    return back_to(f"/signals/{signal_id}")


@router.post("/signals/{signal_id}/rename")
def rename(request: Request, signal_id: int, store: StoreDep, actor: Annotated[Actor, Depends(require("rename"))],
           form: FormDep) -> Response:
    rename_signal(store, signal_id, form.get("title", ""), now_of(request), config_of(request).settings.timezone,
                  by=actor.name)
    return back_to(f"/signals/{signal_id}")


@router.post("/signals/{signal_id}/merge")
def merge(request: Request, signal_id: int, store: StoreDep, actor: Annotated[Actor, Depends(require("merge"))],
          form: FormDep) -> Response:
    into = as_int(form.get("into"), "the signal to merge into")
    merge_signals(store, into, signal_id, now_of(request), config_of(request).settings.timezone, by=actor.name)
    return back_to(f"/signals/{into}")


@router.post("/signals/{signal_id}/rate")
def rate(request: Request, signal_id: int, store: StoreDep, actor: Annotated[Actor, Depends(require("rate"))],
         form: FormDep) -> Response:
    rate_signal(store, signal_id, actor.name, as_int(form.get("novelty"), "novelty"), form.get("horizon", ""),
                as_int(form.get("impact"), "impact"), now_of(request))
    return back_to(f"/signals/{signal_id}")


@router.post("/signals/{signal_id}/comment")
def comment(request: Request, signal_id: int, store: StoreDep, actor: Annotated[Actor, Depends(require("comment"))],
            form: FormDep) -> Response:
    add_comment(store, signal_id, actor.name, form.get("text", ""), now_of(request))
    return back_to(f"/signals/{signal_id}")


@router.post("/items/{item_id}/mark")
def mark(request: Request, item_id: int, store: StoreDep, actor: Annotated[Actor, Depends(require("mark"))],
         form: FormDep) -> Response:
    value = form.get("relevant", "")
    if value not in ("yes", "no"):
        raise UsageError("relevant must be yes or no")
    mark_item(store, item_id, value == "yes", now_of(request), by=actor.name)
    return back_to(local_path(form.get("next"), "/items"))


@router.post("/items/{item_id}/move")
def move(request: Request, item_id: int, store: StoreDep, actor: Annotated[Actor, Depends(require("move"))],
         form: FormDep) -> Response:
    to = form.get("to", "")
    move_item(store, item_id, None if to == "out" else as_int(to, "the signal to move to"), now_of(request),
              config_of(request).settings.timezone, by=actor.name)
    return back_to(local_path(form.get("next"), "/items"))


# ---------------------------------------------------------------------------------------------- items, sources, digests


@router.get("/items", response_class=HTMLResponse)
def items_page(request: Request, store: StoreDep, actor: Annotated[Actor, Depends(require("read"))],
               search: str = "", source: str = "", since: str = "", until: str = "", relevance: str = "",
               submitted: str = "") -> Response:
    def day(text: str, plus: int = 0) -> str | None:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return None
        return iso(parse_iso(text + "T00:00:00+00:00") + timedelta(days=plus))

    relevance = relevance if relevance in RELEVANCE_FILTERS else ""
    items = store.items(since=day(since), until=day(until, 1), source_ids=[source] if source else (),
                        search=search.strip() or None, limit=100, relevance=relevance)
    sources = [r.id for r in store.source_rows()]
    ids = [it.id for it in items]
    marks = latest_labels(store, "relevance", ids)
    signals = signal_records(store, with_members=False)[:500]
    return render(request, "items.html.j2", {"items": items, "why": decided_relevance(store, ids, marks),
                                             "sources": sources, "marks": marks,
                                             "placed": load_assignments(store, ids), "signals": signals,
                                             "submitted": submitted,
                                             "f": {"search": search, "source": source, "since": since,
                                                   "until": until, "relevance": relevance}})


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: int, store: StoreDep,
              actor: Annotated[Actor, Depends(require("read"))]) -> Response:
    """One item: its text, its signal, and why it was judged relevant (``scanner items --explain``'s
    content as the analysis stored it, with a mark made since deciding it)."""
    item = store.item(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"no item with id {item_id}")
    why = stored_explanation(store, item_id)
    ranked = sorted((why or {}).get("similarity", {}).items(), key=lambda kv: -kv[1])
    return render(request, "item.html.j2", {
        "it": item, "why": why, "similarity": ranked, "marks": latest_labels(store, "relevance", [item_id]),
        "placed": load_assignments(store, [item_id]), "signals": signal_records(store, with_members=False)[:500]})


@router.get("/submit", response_class=HTMLResponse)
def submit_page(request: Request, actor: Annotated[Actor, Depends(require("submit"))]) -> Response:
    return render(request, "submit.html.j2", {})


@router.post("/submit")
def submit(request: Request, store: StoreDep, actor: Annotated[Actor, Depends(require("submit"))],
           form: FormDep) -> Response:
    done = submit_url(config_of(request), store, form.get("url", ""), form.get("why", ""), actor.name,
                      now_of(request), tags=form.get("tags", ""), client=getattr(request.app.state, "http", None))
    return back_to(f"/items?source={SOURCE_ID}&submitted={done.item_id}")


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, store: StoreDep, actor: Annotated[Actor, Depends(require("read"))]) -> Response:
    rows = status_table(source_status(config_of(request), store))
    return render(request, "sources.html.j2", {"rows": rows})


@router.get("/digests", response_class=HTMLResponse)
def digests_page(request: Request, actor: Annotated[Actor, Depends(require("read"))]) -> Response:
    reports = config_of(request).reports_path
    entries = list_digests(reports) if reports.is_dir() else []
    return render(request, "digests.html.j2", {"entries": entries})


@router.get("/reports/{name}")
def report_file(request: Request, name: str, actor: Annotated[Actor, Depends(require("read"))]) -> Response:
    if not WEEK_FILE.match(name):
        raise HTTPException(status_code=404, detail="no such digest")
    path = Path(config_of(request).reports_path) / name
    if not path.is_file():
        raise HTTPException(status_code=404, detail="no such digest")
    media = {"html": "text/html", "md": "text/markdown", "json": "application/json"}[name.rsplit(".", 1)[1]]
    return FileResponse(path, media_type=f"{media}; charset=utf-8")
