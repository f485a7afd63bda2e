"""What a chat channel receives of a digest: its summary (``DigestSummary``) and that summary as a
Microsoft Teams Adaptive Card, Slack Block Kit, or JSON.

One summary feeds every format: the week's headline, the signals to look at first (each linked to
its card in the published digest and to its most representative item), the leading trends, and a
link to the full digest (``digest.public_url``). Scraped text is made safe for each format here:
Slack's mrkdwn control characters (``&``, ``<``, ``>``) are escaped, Adaptive Card Markdown cannot
form a link out of a title, links are only ever checked http(s) URLs, and every text is cut to the
format's limits.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from scanner.digest.feed import site_link
from scanner.digest.model import Digest, SignalCard, Stats
from scanner.normalize import http_url

SUMMARY_FORMAT = "scanner.digest.summary/1"
SITE_NAME = "Horizon scan"
MAX_TRENDS = 3
SLACK_SECTION_CHARS = 3000  # Block Kit: a section's text
SLACK_HEADER_CHARS = 150  # a header's plain text
SLACK_FALLBACK_CHARS = 3000  # the top-level "text": the notification, kept short
TITLE_CHARS = 200  # one signal or item title in any format
TEXT_CHARS = 600  # one explanation or headline sentence
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
URL_SAFE = ":/?#@!$&'*+,;=%-._~"  # what stays as it is in a link target: not (, ), <, > or spaces


@dataclass
class SummarySignal:
    """One of the signals to look at first."""

    id: int
    title: str
    state: str
    state_label: str
    why: str
    url: str | None  # its card in the published digest
    item_title: str | None  # its most representative item
    item_url: str | None


@dataclass
class SummaryTrend:
    id: int
    name: str
    state: str
    state_label: str
    why: str
    items_week: int
    items_previous: int
    url: str | None  # the trend in the published digest


@dataclass
class DigestSummary:
    """The digest in a few lines: what each channel posts (``json`` posts exactly this)."""

    week: str
    period: str
    timezone: str
    headline: list[str]
    stats: Stats
    top: list[SummarySignal]
    trends: list[SummaryTrend]
    trends_more: int
    url: str | None  # the full digest (HTML), where reports/ is published
    json_url: str | None
    format: str = field(default=SUMMARY_FORMAT)


def summarise(d: Digest, public_url: str | None) -> DigestSummary:
    """The summary of ``d``, with links into the digest published at ``public_url`` (if it is)."""
    page = f"{d.week}.html"
    cards = _cards(d)
    top = []
    for head in d.top:
        card = cards.get(head.id)
        item = next((it for it in (card.items if card else []) if http_url(it.url)), None)
        top.append(SummarySignal(id=head.id, title=_plain(head.title, TITLE_CHARS), state=head.state,
                                 state_label=head.state_label, why=_plain(head.why, TEXT_CHARS),
                                 url=site_link(public_url, f"{page}#{head.anchor}"),
                                 item_title=_plain(item.title, TITLE_CHARS) if item else None,
                                 item_url=http_url(item.url) if item else None))
    trends = [SummaryTrend(id=t.id, name=_plain(t.name, TITLE_CHARS), state=t.state, state_label=t.state_label,
                           why=_plain(t.why, TEXT_CHARS), items_week=t.items_week, items_previous=t.items_previous,
                           url=site_link(public_url, f"{page}#{t.anchor}"))
              for t in d.trends[:MAX_TRENDS]]
    return DigestSummary(week=d.week, period=d.period, timezone=d.timezone,
                         headline=[_plain(s, TEXT_CHARS) for s in d.headline], stats=d.stats, top=top, trends=trends,
                         trends_more=max(0, len(d.trends) - MAX_TRENDS) + d.trends_more,
                         url=site_link(public_url, page), json_url=site_link(public_url, f"{d.week}.json"))


def _cards(d: Digest) -> dict[int, SignalCard]:
    """Every full card in the digest, by signal id (sections first, then the watchlist's own cards)."""
    out: dict[int, SignalCard] = {}
    for s in d.sections:
        for c in s.signals:
            out.setdefault(c.id, c)
    for w in d.watchlist:
        card = w.get("card")
        if isinstance(card, SignalCard):
            out.setdefault(card.id, card)
    return out


def _plain(text: object, limit: int) -> str:
    """One line of plain text, at most ``limit`` characters (cut at a word when it can be)."""
    value = " ".join(CONTROL_RE.sub(" ", str(text or "")).split())
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.6 else cut).rstrip() + "…"


def _title(s: DigestSummary) -> str:
    return f"{SITE_NAME} {s.week}: {s.period}"


def _counts(s: DigestSummary) -> str:
    st = s.stats
    return f"{st['items']} items, {st['new']} new, {st['weak']} weak, {st['strong']} strong signals"


def _trend_line(t: SummaryTrend) -> str:
    return f"{t.state_label}, {t.items_week} items this week ({t.items_previous} the week before): {t.why}"


# ------------------------------------------------------------------------------------------- JSON
def summary_json(s: DigestSummary) -> dict[str, Any]:
    """``format: json``: the summary itself."""
    return dataclasses.asdict(s)


# ------------------------------------------------------------------------------------------ Teams
def _card_text(text: str) -> str:
    """Text for an Adaptive Card ``TextBlock``, whose Markdown would make ``[t](u)`` a link: a zero-width
    space between ``]`` and ``(`` keeps a scraped title from becoming one."""
    return text.replace("](", "]\u200b(")


def card_link(url: str | None, text: str) -> str:
    """``[text](url)`` in Adaptive Card Markdown for a checked http(s) URL (brackets in the text and
    characters that would end the link encoded), else the text alone."""
    ok = http_url(url)
    if not ok:
        return _card_text(text)
    label = text.replace("[", "(").replace("]", ")")
    return f"[{label}]({quote(ok, safe=URL_SAFE)})"


def teams_message(s: DigestSummary) -> dict[str, Any]:
    """``format: teams``: an Adaptive Card 1.4 in the message envelope a Teams Workflows (Power
    Automate) "post to a channel when a webhook request is received" flow takes."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": _card_text(_title(s)), "size": "Large", "weight": "Bolder", "wrap": True},
        {"type": "TextBlock", "text": _card_text(_counts(s)), "isSubtle": True, "spacing": "None", "wrap": True},
        *({"type": "TextBlock", "text": _card_text(line), "wrap": True} for line in s.headline),
    ]
    if s.top:
        body.append({"type": "TextBlock", "text": "Look at these first", "weight": "Bolder", "size": "Medium",
                     "separator": True, "wrap": True})
    for n, sig in enumerate(s.top, start=1):
        items: list[dict[str, Any]] = [
            {"type": "TextBlock", "text": _card_text(f"{n}. {sig.title}"), "weight": "Bolder", "wrap": True},
            {"type": "TextBlock", "text": _card_text(f"{sig.state_label}: {sig.why}"), "spacing": "None",
             "isSubtle": True, "wrap": True},
        ]
        if sig.item_title:
            items.append({"type": "TextBlock", "text": "e.g. " + card_link(sig.item_url, sig.item_title),
                          "spacing": "None", "size": "Small", "wrap": True})
        block: dict[str, Any] = {"type": "Container", "items": items}
        target = http_url(sig.url) or http_url(sig.item_url)
        if target:
            block["selectAction"] = {"type": "Action.OpenUrl", "url": target, "title": "Open"}
        body.append(block)
    if s.trends:
        body.append({"type": "TextBlock", "text": "Trends", "weight": "Bolder", "size": "Medium", "separator": True,
                     "wrap": True})
    for t in s.trends:
        block = {"type": "Container", "items": [
            {"type": "TextBlock", "text": _card_text(t.name), "weight": "Bolder", "wrap": True},
            {"type": "TextBlock", "text": _card_text(_trend_line(t)), "spacing": "None", "isSubtle": True,
             "wrap": True}]}
        if http_url(t.url):
            block["selectAction"] = {"type": "Action.OpenUrl", "url": http_url(t.url), "title": "Open"}
        body.append(block)
    page = http_url(s.url)
    actions = [{"type": "Action.OpenUrl", "title": "Read the full digest", "url": page}] if page else []
    if not page:
        body.append({"type": "TextBlock", "text": f"The full digest is reports/{s.week}.html on the scanner's "
                     "machine (set digest.public_url to link it here).", "isSubtle": True, "size": "Small",
                     "wrap": True})
    card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                            "version": "1.4", "msteams": {"width": "Full"}, "body": body}
    if actions:
        card["actions"] = actions
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": card}]}


# ------------------------------------------------------------------------------------------ Slack
def slack_escape(text: str) -> str:
    """Plain text for Slack mrkdwn: ``&``, ``<`` and ``>`` as entities (nothing else is a control character)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str | None, text: str) -> str:
    """``<url|text>`` for a checked http(s) URL (``|``, ``<`` and ``>`` in it percent-encoded), else the text."""
    ok = http_url(url)
    label = slack_escape(text)
    if not ok:
        return label
    target = ok.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    return f"<{target}|{label}>"


def _slack_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SLACK_SECTION_CHARS)}}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_message(s: DigestSummary) -> dict[str, Any]:
    """``format: slack``: Block Kit for an incoming webhook, with a plain ``text`` for notifications."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(_title(s), SLACK_HEADER_CHARS),
                                    "emoji": False}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(_counts(s))}]},
    ]
    if s.headline:
        blocks.append(_slack_section("\n".join(slack_escape(line) for line in s.headline)))
    if s.top:
        lines = ["*Look at these first*"]
        for n, sig in enumerate(s.top, start=1):
            line = f"{n}. *{slack_link(sig.url, sig.title)}* ({slack_escape(sig.state_label)}): {slack_escape(sig.why)}"
            if sig.item_title:
                line += f"\n      e.g. {slack_link(sig.item_url, sig.item_title)}"
            lines.append(line)
        blocks += [{"type": "divider"}, _slack_section("\n".join(lines))]
    if s.trends:
        lines = ["*Trends*"] + [f"• *{slack_link(t.url, t.name)}*: {slack_escape(_trend_line(t))}" for t in s.trends]
        blocks.append(_slack_section("\n".join(lines)))
    if http_url(s.url):
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Read the full digest"}, "url": http_url(s.url),
             "action_id": "open-digest"}]})
    else:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(
            f"The full digest is reports/{s.week}.html on the scanner's machine (set digest.public_url to link it "
            "here).")}]})
    fallback = f"{_title(s)}: {' '.join(s.headline)}"
    return {"text": slack_escape(_cut(fallback, SLACK_FALLBACK_CHARS)), "blocks": blocks}


FORMATS = {"teams": teams_message, "slack": slack_message, "json": summary_json}


def render_message(fmt: str, s: DigestSummary) -> bytes:
    """The body a ``format`` webhook is sent, as UTF-8 JSON (Thai kept as it is)."""
    return json.dumps(FORMATS[fmt](s), ensure_ascii=False).encode("utf-8")
