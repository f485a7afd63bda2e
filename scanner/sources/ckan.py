"""CKAN open-data portals (data.go.th and most national portals): newest changed datasets as items.

Calls the action API ``{url}/api/3/action/package_search`` with ``q``, an optional
``fq=organization:NAME``, ``rows`` and ``sort=metadata_modified desc``. Each dataset becomes an item:
its title, its notes as text, the organisation, tags and resources listed, the portal's dataset page
as the link and the dataset id as guid. ``published`` is ``metadata_modified`` (CKAN writes UTC
without a zone), so a dataset that gains a resource shows up as updated.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

from scanner.config import CkanSource
from scanner.dates import parse_date
from scanner.errors import FetchError, HTTPStatusError, ParseError
from scanner.models import FieldCaps, RawItem, SourceFetch
from scanner.normalize import capped_text, clean_text, html_to_text, http_url
from scanner.sources import FetchContext

logger = logging.getLogger(__name__)

API_PATH = "/api/3/action/package_search"
MAX_RESOURCES_LISTED = 20


def api_url(base: str) -> str:
    """``https://data.go.th`` (or a URL already ending in the action path) → the package_search URL."""
    base = base.strip().rstrip("/")
    if base.endswith(API_PATH):
        return base
    for tail in ("/api/3/action", "/api/3", "/api"):
        if base.endswith(tail):
            base = base[: -len(tail)]
            break
    return base + API_PATH


def portal_base(base: str) -> str:
    url = api_url(base)
    return url[: -len(API_PATH)]


def search_params(source: CkanSource) -> dict[str, Any]:
    params: dict[str, Any] = {"q": source.query.strip() or "*:*", "rows": source.rows,
                              "sort": "metadata_modified desc"}
    if source.organization:
        params["fq"] = f"organization:{source.organization.strip()}"
    return params


def fetch(source: CkanSource, ctx: FetchContext) -> SourceFetch:
    result = SourceFetch(source.id, started_at=ctx.now)
    endpoint = api_url(source.url)
    params = search_params(source)
    try:
        resp = ctx.get(endpoint, accept="application/json", params=params)
    except HTTPStatusError as e:
        raise FetchError(_status_hint(e, endpoint, source)) from None
    result.http_status = resp.status
    payload = parse_response(resp.content, endpoint, resp.content_type)
    datasets = payload.get("results") or []
    if not isinstance(datasets, list):
        raise ParseError(f"{endpoint}: CKAN answered without a list of results")
    base = portal_base(source.url)
    caps = ctx.config.settings.caps
    skipped = 0
    broken: list[str] = []
    for n, ds in enumerate(datasets, start=1):
        try:
            item = dataset_to_item(ds, base, caps) if isinstance(ds, dict) else None
        except (TypeError, ValueError, AttributeError, KeyError, RecursionError, OverflowError) as e:
            # One malformed record (``"tags": 5``) is skipped; the others still count.
            broken.append(f"result {n}: {e.__class__.__name__}: {str(e)[:100]}")
            continue
        if item is None:
            skipped += 1
            continue
        result.items.append(item)
    if skipped:
        result.warnings.append(f"{skipped} datasets skipped (no id or title, deleted or private)")
    if broken:
        more = f" (and {len(broken) - 5} more)" if len(broken) > 5 else ""
        result.warnings.append(f"{len(broken)} malformed datasets skipped: {'; '.join(broken[:5])}{more}")
    count = payload.get("count")
    result.report["api"] = f"{endpoint}?" + "&".join(f"{k}={v}" for k, v in params.items())
    result.report["datasets"] = (f"{count} match the search; {len(datasets)} returned (rows={source.rows}); "
                                 f"{len(result.items)} items")
    if result.items:
        first = result.items[0]
        result.report["newest"] = f"{first.title[:80]} ({first.published.isoformat() if first.published else '?'})"
    return result


def _status_hint(e: HTTPStatusError, endpoint: str, source: CkanSource) -> str:
    if e.status == 404:
        return (f"{e}: no CKAN action API here; set `url` to the portal's base address "
                f"(for example https://data.go.th), not a dataset or search page")
    if e.status in (400, 409):
        org = f" or the organization {source.organization!r} does not exist" if source.organization else ""
        return f"{e}: CKAN rejected the search; check `query` (Solr syntax){org}"
    if e.status in (401, 403):
        return f"{e}: the portal wants authorisation for this search; only public datasets can be followed"
    return str(e)


def parse_response(content: bytes, endpoint: str, content_type: str = "") -> dict[str, Any]:
    """The ``result`` object of a CKAN action response; ``ParseError`` for anything else."""
    head = content[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        raise ParseError(f"{endpoint}: the server returned an HTML page, not CKAN JSON; "
                         "is `url` the base address of a CKAN portal?")
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except RecursionError:
        raise ParseError(f"{endpoint}: the JSON answer is nested too deeply to read") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, a 5,000-digit number
        kind = content_type.split(";")[0] or "unknown type"
        raise ParseError(f"{endpoint}: the answer is not JSON ({kind}: {str(e)[:200]}); is `url` a CKAN portal?"
                         ) from None
    if not isinstance(data, dict) or "success" not in data:
        raise ParseError(f"{endpoint}: JSON without CKAN's 'success' field; is `url` a CKAN portal?")
    if data.get("success") is not True:
        err = data.get("error") or {}
        if isinstance(err, dict):
            kind = err.get("__type") or "error"
            message = err.get("message") or "; ".join(
                f"{k}: {v}" for k, v in err.items() if k != "__type"
            ) or "no message"
        else:
            kind, message = "error", str(err)
        raise FetchError(f"{endpoint}: CKAN error ({kind}): {str(message)[:300]}")
    result = data.get("result")
    if not isinstance(result, dict):
        raise ParseError(f"{endpoint}: CKAN answered success without a result object")
    return result


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def dataset_to_item(ds: dict[str, Any], base: str, caps: FieldCaps | None = None) -> RawItem | None:
    """One CKAN dataset (package dict) → ``RawItem``; ``None`` for deleted, private or empty ones."""
    caps = caps or FieldCaps()
    ds_id = str(ds.get("id") or "").strip()
    name = str(ds.get("name") or "").strip()
    title = capped_text(str(ds.get("title") or name), caps.title)
    if not ds_id or not title or ds.get("state", "active") != "active" or ds.get("private") is True:
        return None
    notes = html_to_text(str(ds.get("notes") or ""), caps.body)
    raw_org = ds.get("organization")
    org: dict[str, Any] = raw_org if isinstance(raw_org, dict) else {}
    org_title = clean_text(str(org.get("title") or org.get("name") or "")) or None
    tags = [clean_text(str(t.get("display_name") or t.get("name")))
            for t in _list(ds.get("tags"))[:caps.tags]
            if isinstance(t, dict) and (t.get("display_name") or t.get("name"))]
    resources = []
    for r in _list(ds.get("resources"))[:1000]:
        if not isinstance(r, dict):
            continue
        url = str(r.get("url") or "").strip()
        resources.append({
            "name": clean_text(str(r.get("name") or "")) or "(unnamed)",
            "format": clean_text(str(r.get("format") or "")).upper(),
            "url": http_url(url) or "",
        })
    lines = [notes] if notes else []
    if org_title:
        lines.append(f"Organisation: {org_title}")
    if tags:
        lines.append("Tags: " + ", ".join(tags))
    if resources:
        lines.append(f"Resources ({len(resources)}):")
        for r in resources[:MAX_RESOURCES_LISTED]:
            fmt = f" [{r['format']}]" if r["format"] else ""
            lines.append(f"- {r['name']}{fmt}")
        if len(resources) > MAX_RESOURCES_LISTED:
            lines.append(f"- … and {len(resources) - MAX_RESOURCES_LISTED} more")
    modified = ds.get("metadata_modified")
    created = ds.get("metadata_created")
    published = parse_date(str(modified), tz="UTC") if modified else None
    if published is None and created:
        published = parse_date(str(created), tz="UTC")
    link = f"{base}/dataset/{quote(name or ds_id, safe='-_.~')}"
    return RawItem(
        url=link,
        title=title,
        guid=ds_id,
        summary=notes,
        content="\n".join(lines),
        author=org_title or (clean_text(str(ds.get("author") or "")) or None),
        published=published,
        extra={
            "organization": org.get("name"),
            "organization_title": org_title,
            "tags": tags,
            "resources": resources,
            "license": ds.get("license_title") or ds.get("license_id"),
            "metadata_created": created,
            "metadata_modified": modified,
        },
    )
