"""``signals.db``: the only place that talks to SQLite. The store only stores: what it writes was
built before (an item's key, clean text, language and tokens come from ``scanner.prepare``).

``Store`` opens the database (WAL mode, migrations) and holds the backbone's queries: sources,
fetches and items. The other stages keep their queries in sibling modules (``store/signals.py`` …)
that take a ``Store``. Every write is one short transaction (``Store.transaction``; see
``scanner.lock`` for why short).

sqlite-utils' own ``insert_all(replace=True)`` writes the rows that are simply replaced (vectors,
relevance decisions, stories); inside our transaction it nests as a savepoint (sqlite-utils 4).
It is not used where a write has rules a column-for-column upsert cannot express: items (keep
``first_seen``, fill a missing date once, link exact copies, re-index only changed text),
assignments (keep the week an item joined its signal) and weekly rows (keep past weeks' states).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from scanner.clock import iso, now_utc
from scanner.config import Config
from scanner.errors import StoreError, UsageError
from scanner.models import Item, KnownItem, PreparedItem, SourceFetch, SourceState, UpsertResult
from scanner.normalize import canonical_url, fts_query, split_tokens
from scanner.store.schema import MIGRATIONS, READERS_DO_NOT_NEED

logger = logging.getLogger(__name__)

BUSY_TIMEOUT = 30  # seconds a write waits for another process's write to commit
BODY_TOKENS = 400  # body tokens the analysis reads per item (labels); retention keeps these

ITEM_FIELDS = tuple(f.name for f in fields(Item))  # the columns of ``items`` that make an ``Item``, in order
ITEM_COLUMNS = ", ".join(f"items.{c}" for c in ITEM_FIELDS)


@dataclass
class SourceRow:
    """A row of the ``sources`` table as status reports see it."""

    id: str
    kind: str
    every_seconds: float | None
    enabled: bool
    in_config: bool
    items: int
    state: SourceState


class Store:
    """An open ``signals.db``. Use ``Store.open(path)``; close with ``close()`` or as a context manager."""

    def __init__(self, db: sqlite_utils.Database, path: Path | None) -> None:
        self.db = db
        self.path = path

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, path: str | Path | None, readonly: bool = False) -> Store:
        """Open (and create or migrate) the database at ``path``; ``None`` is an in-memory database.

        ``readonly`` opens it for reading only (``scanner status``, listings): nothing is created,
        migrated or written; a database that does not exist yet reads as an empty one.
        """
        if readonly:
            return cls._open_readonly(path)
        try:
            if path is None:
                conn = sqlite3.connect(":memory:", check_same_thread=False)
                p = None
            else:
                p = Path(path)
                p.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(p), timeout=BUSY_TIMEOUT, check_same_thread=False)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT * 1000}")
            db = sqlite_utils.Database(conn)
            if p is not None:
                db.enable_wal()
            db.execute("PRAGMA synchronous = NORMAL")
            store = cls(db, p)
            store.migrate()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{path}: cannot open the database ({e}); is it a scanner database?") from e
        return store

    @classmethod
    def _open_readonly(cls, path: str | Path | None) -> Store:
        if path is None or not Path(path).exists():
            return cls.open(None)  # an empty database in memory: nothing touches the disk
        p = Path(path)
        try:
            conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT * 1000}")
            store = cls(sqlite_utils.Database(conn), p)
            done = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{path}: cannot open the database ({e}); is it a scanner database?") from e
        pending = [m for m in (fn.__name__ for fn in MIGRATIONS) if m not in done and m not in READERS_DO_NOT_NEED]
        if pending:
            store.close()
            raise StoreError(f"{path} was written by an older scanner and needs an upgrade ({', '.join(pending)}); "
                             "any command that writes (for example `scanner fetch`) upgrades it")
        return store

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def migrate(self) -> list[str]:
        """Apply the migrations not applied yet; return their names."""
        conn = self.db.conn
        conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
        applied = []
        for fn in sorted(MIGRATIONS, key=lambda f: f.__name__):
            if fn.__name__ in done:
                continue
            with self.transaction():
                fn(self.db)
                conn.execute("INSERT INTO _migrations VALUES (?, ?)", (fn.__name__, iso(now_utc())))
            applied.append(fn.__name__)
        return applied

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: commits on success, rolls back on any exception.

        It waits up to ``BUSY_TIMEOUT`` for another process's write to commit (every write
        transaction of the scanner is short, see ``scanner.lock``); past that it raises
        ``StoreError``, so a write is either stored or refused with a message, never lost silently.
        """
        conn = self.db.conn
        if conn.in_transaction:
            yield conn
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise StoreError(f"{self.path}: the database stayed busy for {BUSY_TIMEOUT} s ({e}); nothing was "
                             "written: try again") from e
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    # ------------------------------------------------------------------ sources
    def sync_sources(self, config: Config) -> None:
        """Mirror the configured sources into the ``sources`` table; keep removed ones (``in_config=0``)."""
        now = iso(now_utc())
        ids = []
        with self.transaction() as conn:
            for s in config.sources:
                ids.append(s.id)
                cfg = s.model_dump(mode="json")
                every = s.every_seconds(config.settings)
                row = {
                    "id": s.id,
                    "name": s.name or s.id,
                    "kind": s.kind,
                    "url": json.dumps(cfg["url"]) if isinstance(cfg.get("url"), list) else cfg.get("url"),
                    "path": cfg.get("path"),
                    "language": s.language,
                    "tags": json.dumps(s.tags, ensure_ascii=False),
                    "every_seconds": every,
                    "enabled": int(s.enabled),
                    "config": json.dumps(cfg, ensure_ascii=False),
                    "in_config": 1,
                    "updated_at": now,
                }
                exists = conn.execute("SELECT 1 FROM sources WHERE id = ?", (s.id,)).fetchone()
                if exists:
                    sets = ", ".join(f"{k} = :{k}" for k in row if k != "id")
                    conn.execute(f"UPDATE sources SET {sets} WHERE id = :id", row)
                else:
                    row["created_at"] = now
                    cols = ", ".join(row)
                    conn.execute(f"INSERT INTO sources ({cols}) VALUES ({', '.join(':' + k for k in row)})", row)
            marks = ",".join("?" for _ in ids)
            conn.execute(f"UPDATE sources SET in_config = 0 WHERE id NOT IN ({marks})", ids)

    def source_state(self, source_id: str) -> SourceState:
        row = self.db.execute(
            "SELECT etag, last_modified, last_attempt, last_success, last_error, consecutive_failures "
            "FROM sources WHERE id = ?",
            (source_id,),
        ).fetchone()
        if row is None:
            return SourceState(source_id)
        return SourceState(source_id, *row)

    def source_rows(self) -> list[SourceRow]:
        """Every source the database knows (configured or removed), with its state and item count."""
        rows = self.db.execute(
            "SELECT s.id, s.kind, s.every_seconds, s.enabled, s.in_config, s.etag, s.last_modified, s.last_attempt, "
            "s.last_success, s.last_error, s.consecutive_failures, "
            "(SELECT count(*) FROM items i WHERE i.source_id = s.id) FROM sources s ORDER BY s.in_config DESC, s.id"
        ).fetchall()
        return [SourceRow(r[0], r[1], r[2], bool(r[3]), bool(r[4]), int(r[11]), SourceState(r[0], *r[5:11]))
                for r in rows]

    # ------------------------------------------------------------------ fetches + items
    def save_fetch(self, result: SourceFetch, items: Sequence[PreparedItem] = ()) -> UpsertResult:
        """Store one source's fetch: its prepared items, a ``fetches`` row and the source's state, atomically."""
        with self.transaction():
            upsert = self.upsert_items(items, result.started_at)
            result.items_new, result.items_updated, result.items_seen = upsert.new, upsert.updated, upsert.seen
            self._record_fetch(result)
        return upsert

    def _record_fetch(self, r: SourceFetch) -> None:
        conn = self.db.conn
        finished = r.finished_at or now_utc()
        conn.execute(
            "INSERT INTO fetches (source_id, started_at, finished_at, status, http_status, items_new, "
            "items_updated, items_seen, warning, error) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (r.source_id, iso(r.started_at), iso(finished), r.status, r.http_status, r.items_new, r.items_updated,
             r.items_seen, "\n".join(r.warnings) or None, r.error),
        )
        if r.status == "failed":
            conn.execute(
                "UPDATE sources SET last_attempt = ?, last_error = ?, "
                "consecutive_failures = consecutive_failures + 1 WHERE id = ?",
                (iso(r.started_at), r.error, r.source_id),
            )
        else:
            conn.execute(
                "UPDATE sources SET last_attempt = ?, last_success = ?, consecutive_failures = 0, "
                "etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified) WHERE id = ?",
                (iso(r.started_at), iso(finished), r.etag, r.last_modified, r.source_id),
            )

    def stored_hash(self, source_id: str, item_key: str) -> str | None:
        """The content hash of the item ``source_id`` would write under ``item_key`` (``own_key``), or
        ``None`` (``scanner.prepare`` skips re-tokenising when it matches)."""
        key, _ = self.own_key(source_id, item_key)
        row = self.db.execute("SELECT content_hash FROM items WHERE item_key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def own_key(self, source_id: str, item_key: str) -> tuple[str, int | None]:
        """Where ``source_id``'s copy of ``item_key`` lives, and the first item of what it copies (or ``None``).

        An item belongs to the source that stored it first. When another source lists the same URL,
        its copy is kept apart, under ``copy_key``, linked to the first by ``duplicate_of`` (so the
        stories stage counts them as one story, seen by two sources), and never rewrites it.
        """
        row = self.db.execute("SELECT COALESCE(duplicate_of, id), source_id FROM items WHERE item_key = ?",
                              (item_key,)).fetchone()
        if row is None or row[1] == source_id:
            return item_key, None
        return copy_key(source_id, item_key), int(row[0])

    def upsert_items(self, items: Sequence[PreparedItem], seen_at: datetime) -> UpsertResult:
        """Insert new items, update changed ones (keeping ``first_seen``), touch unchanged ones.

        An item is only ever rewritten by the source that stored it first (``own_key``).

        Not sqlite-utils' ``upsert``: an update must keep ``first_seen``, fill a missing date only
        once, link an exact copy under another URL (``duplicate_of``) and re-index only when the
        text changed, which a column-for-column upsert cannot express.
        """
        result = UpsertResult()
        conn = self.db.conn
        now = iso(seen_at)
        with self.transaction():
            for it in items:
                key, original = self.own_key(it.source_id, it.item_key)
                existing = conn.execute(
                    "SELECT id, content_hash, date_missing, body_dropped FROM items WHERE item_key = ?",
                    (key,)).fetchone()
                if existing is None:
                    item_id = self._insert_item(it, key, original, now)
                    result.new += 1
                else:
                    item_id, old_hash, old_missing, dropped = existing
                    if old_hash != it.content_hash and not dropped:  # retention froze a dropped item's text
                        conn.execute(
                            "UPDATE items SET url = ?, guid = COALESCE(?, guid), title = ?, summary = ?, "
                            "content = ?, author = COALESCE(?, author), lang = ?, last_seen = ?, updated_at = ?, "
                            "content_hash = ?, extra = ? WHERE id = ?",
                            (it.url, it.guid, it.title, it.summary, it.content, it.author, it.lang, now, now,
                             it.content_hash, it.extra, item_id),
                        )
                        self._index(item_id, it)
                        result.updated += 1
                    else:
                        # Same text: keep what the source says about it now (summary, extra fields).
                        conn.execute("UPDATE items SET last_seen = ?, summary = ?, extra = ? WHERE id = ?",
                                     (now, it.summary, it.extra, item_id))
                        result.seen += 1
                    if it.published and old_missing:
                        conn.execute("UPDATE items SET published = ?, date_missing = 0 WHERE id = ?",
                                     (it.published, item_id))
                result.item_ids.append(item_id)
        return result

    def _insert_item(self, it: PreparedItem, key: str, original: int | None, now: str) -> int:
        conn = self.db.conn
        dup = (original,) if original is not None else conn.execute(
            "SELECT id FROM items WHERE content_hash = ? AND duplicate_of IS NULL ORDER BY id LIMIT 1",
            (it.content_hash,)).fetchone()
        cur = conn.execute(
            "INSERT INTO items (source_id, item_key, url, canonical_url, guid, title, summary, content, author, lang, "
            "published, date_missing, first_seen, last_seen, updated_at, content_hash, duplicate_of, extra) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (it.source_id, key, it.url, it.canonical_url, it.guid, it.title, it.summary, it.content,
             it.author, it.lang, it.published or now, 0 if it.published else 1, now, now, now, it.content_hash,
             dup[0] if dup else None, it.extra),
        )
        item_id = int(cur.lastrowid or 0)
        self._index(item_id, it)
        return item_id

    def _index(self, item_id: int, it: PreparedItem) -> None:
        """Write the tokens ``prepare_item`` made: ``items.tokens`` for analysis, ``items_fts`` for search."""
        if it.tokens is None or it.fts_title is None or it.fts_body is None:
            raise StoreError(f"item {it.item_key}: its text changed but it was prepared without tokens")
        conn = self.db.conn
        conn.execute("UPDATE items SET tokens = ? WHERE id = ?", (it.tokens, item_id))
        conn.execute("DELETE FROM items_fts WHERE rowid = ?", (item_id,))
        conn.execute("INSERT INTO items_fts (rowid, title, body) VALUES (?, ?, ?)",
                     (item_id, it.fts_title, it.fts_body))

    def bodies_before(self, before: str, after: tuple[str, int], limit: int) -> list[tuple[int, str, str]]:
        """``(id, published, tokens)`` of up to ``limit`` items published before ``before`` that still have
        their full text, in (published, id) order after ``after`` (retention pages through with it)."""
        return [(int(i), p, t or "") for i, p, t in self.db.execute(
            "SELECT id, published, tokens FROM items WHERE published < ? AND (published, id) > (?, ?) "
            "AND content != '' ORDER BY published, id LIMIT ?", (before, *after, limit))]

    def forget_bodies(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """Retention's write, one transaction: each ``(id, tokens, search body)`` loses its full text."""
        with self.transaction() as conn:
            conn.executemany("UPDATE items SET content = '', tokens = ?, body_dropped = 1 WHERE id = ?",
                             [(tokens, item_id) for item_id, tokens, _ in rows])
            conn.executemany("UPDATE items_fts SET body = ? WHERE rowid = ?",
                             [(body, item_id) for item_id, _, body in rows])

    def known_item(self, url: str | None, source_id: str) -> KnownItem | None:
        """``source_id``'s stored item for a URL (by canonical URL; its own copy when another source
        stored the URL first, see ``own_key``), or ``None``."""
        canon = canonical_url(url)
        if not canon:
            return None
        key, _ = self.own_key(source_id, canon)
        row = self.db.execute("SELECT id, content_hash, summary, content, extra FROM items WHERE item_key = ?",
                              [key]).fetchone()
        return KnownItem(row[0], row[1], row[2], row[3], load_json(row[4], {})) if row else None

    # ------------------------------------------------------------------ reading items
    def items(
        self,
        since: str | None = None,
        until: str | None = None,
        source_ids: Sequence[str] = (),
        search: str | None = None,
        limit: int | None = None,
        relevance: str = "",
    ) -> list[Item]:
        """Items newest first: published in ``[since, until)``, from ``source_ids``, matching ``search``
        (words in Thai or English, see ``normalize.fts_query``), with the stored ``relevance`` decision
        (one of ``RELEVANCE_FILTERS``; empty: any), at most ``limit``."""
        if search:
            from scanner.store.search import search_ids  # it builds on this module

            match = fts_query(search)
            ids = search_ids(self, match, limit, since, until, source_ids, relevance) if match else []
            found = {i.id: i for i in select_items(self, f"SELECT {ITEM_COLUMNS} FROM items WHERE 1", [], ids)}
            return [found[i] for i in ids]
        where, params = item_filters(since, until, source_ids, relevance)
        sql = f"SELECT {ITEM_COLUMNS} FROM items"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY items.published DESC, items.id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_row_to_item(r) for r in self.db.execute(sql, params).fetchall()]

    def item(self, item_id: int) -> Item | None:
        row = self.db.execute(f"SELECT {ITEM_COLUMNS} FROM items WHERE id = ?", (item_id,)).fetchone()
        return _row_to_item(row) if row else None

    def count_items(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM items").fetchone()[0])

    def fetches(self, source_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        if source_id:
            return self.query("SELECT * FROM fetches WHERE source_id = ? ORDER BY id DESC LIMIT ?", [source_id, limit])
        return self.query("SELECT * FROM fetches ORDER BY id DESC LIMIT ?", [limit])


SQL_CHUNK = 900  # ids per ``IN (...)`` list: stays under SQLite's limit on bound parameters


# An item's relevance decision as SQL (1, 0 or NULL): its latest analyst mark, else what ``analyse``
# stored; the rule ``scanner.store.relevance.save_relevance`` applies at the next analysis, so a
# listing follows a mark at once.
DECISION_SQL = ("coalesce((SELECT l.value = 'relevant' FROM item_labels l WHERE l.item_id = items.id "
                "AND l.kind = 'relevance' ORDER BY l.id DESC LIMIT 1), "
                "(SELECT r.relevant FROM item_relevance r WHERE r.item_id = items.id))")
# What ``Store.items(relevance=...)`` keeps.
RELEVANCE_FILTERS: dict[str, str] = {
    "relevant": f"{DECISION_SQL} = 1",
    "not_relevant": f"{DECISION_SQL} = 0",
    "unscored": f"{DECISION_SQL} IS NULL",  # neither marked nor scored yet
}


def item_filters(since: str | None, until: str | None, source_ids: Sequence[str],
                 relevance: str = "") -> tuple[list[str], list[Any]]:
    """SQL conditions on ``items`` (and their parameters) for ``published`` in ``[since, until)``,
    ``source_id`` in ``source_ids`` and the stored ``relevance`` decision (a key of
    ``RELEVANCE_FILTERS``): how ``Store.items`` and its search narrow a listing."""
    where: list[str] = []
    params: list[Any] = []
    if relevance:
        if relevance not in RELEVANCE_FILTERS:
            raise UsageError(f"relevance must be one of {', '.join(RELEVANCE_FILTERS)} (or empty for any), "
                             f"not {relevance!r}")
        where.append(RELEVANCE_FILTERS[relevance])
    if since:
        where.append("items.published >= ?")
        params.append(since)
    if until:
        where.append("items.published < ?")
        params.append(until)
    if source_ids:
        where.append(f"items.source_id IN ({placeholders(source_ids)})")
        params.extend(source_ids)
    return where, params


def copy_key(source_id: str, item_key: str) -> str:
    """The key of ``source_id``'s own copy of an item another source stored first (``Store.own_key``)."""
    return f"copy:{source_id}:{item_key}"


def chunked(ids: Sequence[Any]) -> Iterator[list[Any]]:
    """``ids`` in lists short enough for one ``IN (...)`` each."""
    for start in range(0, len(ids), SQL_CHUNK):
        yield list(ids[start : start + SQL_CHUNK])


def placeholders(ids: Sequence[Any]) -> str:
    """``?,?,?`` for an ``IN (...)`` list of ``ids``."""
    return ",".join("?" for _ in ids)


def select_items(store: Store, sql: str, params: Sequence[Any], item_ids: Sequence[int] | None) -> list[Item]:
    """Items selected by ``sql`` (``SELECT ITEM_COLUMNS FROM items … WHERE …``), all of them or only
    those in ``item_ids`` (each once), in id order."""
    if item_ids is None:
        rows = store.db.execute(sql, params).fetchall()
    else:
        rows = []
        for chunk in chunked(list(dict.fromkeys(item_ids))):
            rows.extend(store.db.execute(f"{sql} AND items.id IN ({placeholders(chunk)})", [*params, *chunk]))
    return sorted((_row_to_item(r) for r in rows), key=lambda i: i.id)


def load_json(text: str | None, default: Any) -> Any:
    """A JSON column's value, or ``default`` when it is empty, broken or not of ``default``'s type
    (one bad row never crashes a reader)."""
    if not text:
        return default
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return default
    return value if isinstance(value, type(default)) else default


def _row_to_item(row: Sequence[Any]) -> Item:
    """An ``items`` row selected as ``ITEM_COLUMNS`` (the ``Item`` fields, in order)."""
    values: dict[str, Any] = dict(zip(ITEM_FIELDS, row, strict=True))
    values["date_missing"] = bool(values["date_missing"])
    values["tokens"] = [t for part in split_tokens(values["tokens"]) for t in part]
    return Item(**values)
