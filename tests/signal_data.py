"""Controlled data for the signals-engine tests: items about a few matters, written to a real store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from scanner.clock import UTC
from scanner.models import RawItem
from scanner.prepare import store_items
from scanner.store import Store
from scanner.store.signals import mark_relevant

# Each matter is a bag of words; items repeat it with two words of their own, so the hashing
# embedder puts items of one matter close together (cosine ≈ 0.8) and matters far apart.
MATTERS = {
    "opendata": "ข้อมูลเปิด ภาครัฐ แพลตฟอร์ม ชุดข้อมูล เผยแพร่ open data portal catalogue",
    "fraud": "มิจฉาชีพ บัญชีม้า หลอกลวง โอนเงิน ตำรวจ scam call centre gang",
    "ai": "ปัญญาประดิษฐ์ โมเดลภาษา ทดลองใช้ หน่วยงาน artificial intelligence chatbot pilot",
    "wifi": "อินเทอร์เน็ต หมู่บ้าน ชนบท โครงข่าย broadband rural village network",
}
EXTRA = ["เชียงใหม่", "ขอนแก่น", "ภูเก็ต", "ระยอง", "สงขลา", "นครราชสีมา", "อุดรธานี", "พิษณุโลก", "ลำปาง", "ตรัง",
         "north", "east", "south", "west", "central", "capital", "coast", "valley", "river", "island"]


def ensure_source(store: Store, source_id: str, kind: str = "rss") -> None:
    with store.transaction() as conn:
        conn.execute("INSERT OR IGNORE INTO sources (id, name, kind, created_at, updated_at) VALUES (?,?,?,?,?)",
                     (source_id, source_id, kind, "2025-01-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00"))


def matter_text(matter: str, n: int) -> str:
    return f"{MATTERS[matter]} {EXTRA[n % len(EXTRA)]} ref{n}"


def add_items(store: Store, rows: Sequence[tuple[str, str, str]], source_id: str = "news", kind: str = "rss",
              relevant: bool = True, topics: Sequence[str] = ("digital-id",), start: int = 0) -> list[int]:
    """Store items ``(matter or literal text, title, published YYYY-MM-DD)``; mark them relevant."""
    ensure_source(store, source_id, kind)
    raws = []
    for k, (matter, title, day) in enumerate(rows):
        text = matter_text(matter, start + k) if matter in MATTERS else matter
        published = datetime.fromisoformat(day).replace(hour=3, tzinfo=UTC)
        raws.append(RawItem(url=f"https://example.org/{source_id}/{start + k}", title=title, content=text,
                            published=published))
    result = store_items(store, source_id, raws, datetime(2025, 1, 1, tzinfo=UTC))
    ids = result.item_ids
    mark_relevant(store, ids, topics=topics, relevant=relevant)
    return ids
