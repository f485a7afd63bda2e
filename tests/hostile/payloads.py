"""Hostile inputs, built in code (some are megabytes): feeds, CKAN answers, data files, YAML.

Each builder returns the bytes or text a stranger could serve. Shared by ``tests/hostile`` and
``bench/hostile.py``.
"""

from __future__ import annotations

import json
from html import escape

THAI = "รัฐบาลดิจิทัลพัฒนาบริการประชาชนผ่านแอปพลิเคชันทางรัฐ"


def rss(items: list[dict[str, str]], title: str = "feed") -> bytes:
    """An RSS 2.0 feed; each item's values are inserted as given (already escaped or not)."""
    parts = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
             "<link>http://example.org/</link><description>d</description>"]
    for it in items:
        parts.append("<item>" + "".join(f"<{k}>{v}</{k}>" for k, v in it.items()) + "</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def plain_items(n: int, base: str, prefix: str = "ข่าว") -> list[dict[str, str]]:
    """``n`` ordinary Thai items linking to ``base/1`` … (a healthy control feed)."""
    return [{"title": f"{prefix} {i} {THAI}", "link": f"{base}/{i}", "guid": f"{base}/{i}",
             "description": f"{THAI} รายละเอียดข่าวที่ {i}", "pubDate": "Mon, 06 Jan 2025 09:00:00 +0700"}
            for i in range(1, n + 1)]


def surrogate_feed(base: str) -> bytes:
    """Lone surrogates as character references (``&#xD800;``) in a guid, an author and a text:
    feedparser 6.0 itself raises ``UnicodeEncodeError`` on them."""
    bad = "&#xD800;"
    return rss([{"title": "ข่าวดี", "link": f"{base}/a", "guid": f"g{bad}1", "author": f"ผู้เขียน{bad}",
                 "description": f"ข้อความ{bad}"}])


def surrogate_dataset(i: int) -> dict[str, object]:
    """A CKAN record whose strings hold lone surrogates once ``json.loads`` decodes ``\\ud800``."""
    return ckan_dataset(i, id=f"ds-{i}\ud800", author="ผู้เขียน\ud800", license_title="CC\udfff",
                        notes="ข้อมูล\ud800เปิด", tags=[{"name": "แท็ก\ud800"}],
                        resources=[{"name": "ไฟล์\ud800", "url": "http://example.org/r\ud800.csv", "format": "CSV"}])


def surrogate_rows() -> str:
    """JSON Lines whose escapes decode to lone surrogates (``json.loads`` accepts them)."""
    return ('{"id": "s\\ud8001", "title": "บันทึก\\udfff", "author": "ผู้\\ud800", "body": "ข้อความ", '
            '"province": "เชียงใหม่\\ud800"}\n'
            '{"id": "ok", "title": "บันทึกปกติ", "body": "ข้อความ"}\n')


def many_paragraphs(n: int = 40_000) -> str:
    return "<p>ข่าว</p>" * n


def nested_divs_escaped(n: int = 100_000) -> str:
    """``n`` nested ``<div>`` inside a description, escaped as RSS carries HTML."""
    return escape("<div>" * n + "ข่าว" + "</div>" * n)


def many_categories(n: int = 100_000) -> bytes:
    cats = "".join(f"<category>c{i}</category>" for i in range(n))
    return rss([{"title": "หมวดหมู่มากมาย", "link": "http://example.org/c", "description": "x"}]).replace(
        b"<description>x</description>", b"<description>x</description>" + cats.encode())


def huge_thai_title(chars: int = 1_000_000) -> bytes:
    text = (THAI * (chars // len(THAI) + 1))[:chars]
    return rss([{"title": text, "link": "http://example.org/t", "description": "สั้น"}])


def jsonl_huge_body(mb: int = 50) -> bytes:
    body = THAI * (mb * 1_000_000 // (len(THAI) * 3))
    return (json.dumps({"id": "big", "title": "บันทึกยาว", "body": body}, ensure_ascii=False) + "\n"
            + json.dumps({"id": "ok", "title": "บันทึกปกติ", "body": "การสนทนากลุ่มเรื่องบริการดิจิทัล"},
                         ensure_ascii=False) + "\n").encode("utf-8")


def deep_json_row(depth: int = 100_000) -> str:
    return '{"id": "deep", "title": "ลึก", "body": ' + "[" * depth + "]" * depth + "}"


def ckan_answer(datasets: list[dict[str, object]]) -> bytes:
    return json.dumps({"success": True, "result": {"count": len(datasets), "results": datasets}}).encode("ascii")


def ckan_dataset(i: int, **over: object) -> dict[str, object]:
    ds: dict[str, object] = {"id": f"ds-{i}", "name": f"ds-{i}", "title": f"ชุดข้อมูล {i} {THAI}",
                             "notes": "ข้อมูลเปิดภาครัฐ", "state": "active",
                             "metadata_modified": "2025-01-06T02:00:00", "tags": [{"name": "open-data"}]}
    ds.update(over)
    return ds


def alias_bomb(levels: int = 9) -> str:
    """The "billion laughs" of YAML, about 443 bytes at nine levels."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append("sources: []")
    return "\n".join(lines) + "\n"


def deep_yaml(depth: int = 50_000) -> str:
    return "sources: " + "[" * depth + "]" * depth + "\n"
