"""Numbered migrations for ``signals.db``. Applied in name order, each once, inside a transaction.

Add a new migration as a new function at the end; never edit one that has shipped. A migration
is one SQL script, kept whole however long it is: it is the schema's record, read as a unit.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils


def m001_create_sources_fetches_items(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,
            url TEXT,
            path TEXT,
            language TEXT NOT NULL DEFAULT 'auto',
            tags TEXT NOT NULL DEFAULT '[]',          -- JSON list
            every_seconds REAL,
            enabled INTEGER NOT NULL DEFAULT 1,
            config TEXT NOT NULL DEFAULT '{}',        -- JSON of the source's YAML entry
            in_config INTEGER NOT NULL DEFAULT 1,     -- 0 once removed from sources.yaml (history is kept)
            etag TEXT,
            last_modified TEXT,
            last_attempt TEXT,
            last_success TEXT,
            last_error TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE fetches (
            id INTEGER PRIMARY KEY,
            source_id TEXT NOT NULL REFERENCES sources(id),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,                      -- ok | not_modified | failed
            http_status INTEGER,
            items_new INTEGER NOT NULL DEFAULT 0,
            items_updated INTEGER NOT NULL DEFAULT 0,
            items_seen INTEGER NOT NULL DEFAULT 0,
            warning TEXT,
            error TEXT
        );
        CREATE INDEX fetches_source_started ON fetches(source_id, started_at);
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            source_id TEXT NOT NULL REFERENCES sources(id),
            item_key TEXT NOT NULL UNIQUE,             -- canonical URL, or guid:<source>:<guid>
            url TEXT,
            canonical_url TEXT,
            guid TEXT,
            title TEXT NOT NULL DEFAULT '',
            summary TEXT NOT NULL DEFAULT '',
            content TEXT NOT NULL DEFAULT '',
            author TEXT,
            lang TEXT NOT NULL DEFAULT 'th',
            published TEXT NOT NULL,                   -- UTC ISO 8601
            date_missing INTEGER NOT NULL DEFAULT 0,   -- 1 when published is the fetch time
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            content_hash TEXT NOT NULL,                -- sha256 of normalised title + text
            duplicate_of INTEGER REFERENCES items(id), -- same text already stored under another URL
            extra TEXT NOT NULL DEFAULT '{}',          -- JSON: kind-specific fields
            tokens TEXT NOT NULL DEFAULT ''            -- newmm tokens: title's, a newline, the text's
        );
        CREATE INDEX items_published ON items(published);
        CREATE INDEX items_source ON items(source_id);
        CREATE INDEX items_hash ON items(content_hash);
        CREATE INDEX items_canonical ON items(canonical_url);
        -- Full-text index of PyThaiNLP newmm tokens joined by spaces (rowid = items.id).
        CREATE VIRTUAL TABLE items_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 0');
        """
    )


def m002_create_analysis(db: sqlite_utils.Database) -> None:
    """Tables of the signals engine."""
    db.executescript(
        """
        CREATE TABLE embeddings (
            content_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            dim INTEGER NOT NULL,
            vector BLOB NOT NULL,                      -- float32, little endian
            created_at TEXT NOT NULL,
            PRIMARY KEY (content_hash, model)
        );
        CREATE TABLE item_relevance (
            item_id INTEGER PRIMARY KEY REFERENCES items(id),
            content_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            relevance REAL NOT NULL,
            relevant INTEGER NOT NULL,
            topics TEXT NOT NULL DEFAULT '[]',         -- JSON list of topic ids
            explain TEXT NOT NULL DEFAULT '{}',        -- JSON: per-topic similarity and keyword hits
            computed_at TEXT NOT NULL
        );
        CREATE TABLE stories (
            item_id INTEGER PRIMARY KEY REFERENCES items(id),
            story_id INTEGER NOT NULL                  -- id of the story's first item
        );
        CREATE INDEX stories_story ON stories(story_id);
        CREATE TABLE signals (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',            -- built from the most central item
            custom_title TEXT,                         -- set by an analyst (scanner signals rename)
            keywords TEXT NOT NULL DEFAULT '{}',       -- JSON {"th": [...], "en": [...], "all": [...]}
            state TEXT NOT NULL DEFAULT 'new',         -- weak|strong|latent|established|new|fading
            status TEXT NOT NULL DEFAULT 'active',     -- active | merged | faded
            merged_into INTEGER REFERENCES signals(id),
            topics TEXT NOT NULL DEFAULT '[]',         -- JSON list of topic ids
            tags TEXT NOT NULL DEFAULT '{}',           -- JSON {"steepv": [...], "themes": [...], "sdgs": [...]}
            centroid BLOB,                             -- float32
            model TEXT,
            first_seen TEXT NOT NULL,                  -- ISO week YYYY-Www
            last_seen TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE signal_items (                    -- current assignment
            item_id INTEGER PRIMARY KEY REFERENCES items(id),
            signal_id INTEGER NOT NULL REFERENCES signals(id),
            similarity REAL,
            assigned_week TEXT NOT NULL
        );
        CREATE INDEX signal_items_signal ON signal_items(signal_id);
        CREATE TABLE signal_item_history (             -- every assignment ever made
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL,
            signal_id INTEGER NOT NULL,
            week TEXT NOT NULL,
            assigned_at TEXT NOT NULL
        );
        CREATE INDEX signal_item_history_item ON signal_item_history(item_id);
        CREATE TABLE signal_weeks (
            signal_id INTEGER NOT NULL REFERENCES signals(id),
            week TEXT NOT NULL,                        -- ISO week YYYY-Www
            items INTEGER NOT NULL DEFAULT 0,
            stories INTEGER NOT NULL DEFAULT 0,
            sources INTEGER NOT NULL DEFAULT 0,
            source_kinds INTEGER NOT NULL DEFAULT 0,
            dov REAL, dod REAL,
            dov_growth REAL, dod_growth REAL,
            state TEXT,
            keywords TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (signal_id, week)
        );
        CREATE TABLE signal_events (
            id INTEGER PRIMARY KEY,
            signal_id INTEGER NOT NULL,
            week TEXT NOT NULL,
            event TEXT NOT NULL,                       -- born|grew|merged|split|faded|revived|renamed
            detail TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );
        CREATE INDEX signal_events_signal ON signal_events(signal_id);
        CREATE TABLE keyword_weeks (
            keyword TEXT NOT NULL,
            lang TEXT NOT NULL,
            week TEXT NOT NULL,
            tf INTEGER NOT NULL, df INTEGER NOT NULL,
            dov REAL, dod REAL, dov_growth REAL, dod_growth REAL,
            PRIMARY KEY (keyword, week)
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,                        -- fetch | analyse | digest | run
            as_of TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            summary TEXT NOT NULL DEFAULT '{}'
        );
        """
    )


def m003_create_reviews_digests_heartbeat(db: sqlite_utils.Database) -> None:
    """Analysts' verdicts and digests, the scheduler's heartbeat."""
    db.executescript(
        """
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY,
            signal_id INTEGER NOT NULL,
            verdict TEXT NOT NULL,                     -- keep | watch | dismiss
            note TEXT,
            by TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX reviews_signal ON reviews(signal_id);
        CREATE TABLE digests (
            week TEXT PRIMARY KEY,                     -- YYYY-Www
            generated_at TEXT NOT NULL,
            paths TEXT NOT NULL DEFAULT '[]',
            emailed_at TEXT
        );
        CREATE TABLE heartbeat (
            name TEXT PRIMARY KEY,                     -- 'scheduler'
            pid INTEGER,
            host TEXT,
            started_at TEXT,
            beat_at TEXT,
            last_job TEXT,
            last_job_at TEXT,
            last_job_summary TEXT,
            next_runs TEXT NOT NULL DEFAULT '{}'
        );
        """
    )


def m004_signal_events_by(db: sqlite_utils.Database) -> None:
    """Who recorded an event: ``engine`` for what the analysis found, else the analyst's act."""
    db.executescript(
        """
        ALTER TABLE signal_events ADD COLUMN by TEXT NOT NULL DEFAULT 'engine';
        UPDATE signal_events SET by = 'analyst'
          WHERE json_valid(detail) AND json_extract(detail, '$.by') = 'analyst';
        CREATE INDEX signal_events_week ON signal_events(week, signal_id, event);
        """
    )


def m005_index_items_by_source_and_date(db: sqlite_utils.Database) -> None:
    """A source's latest item and its items of a week without reading its rows (digest source health,
    ``scanner status``); it serves every lookup the source-only index did."""
    db.executescript(
        """
        CREATE INDEX items_source_published ON items(source_id, published);
        DROP INDEX items_source;
        """
    )


def m006_index_weekly_rows_by_week(db: sqlite_utils.Database) -> None:
    """A week's rows without scanning ten years of them (the digest, and scoring replacing a window)."""
    db.executescript(
        """
        CREATE INDEX signal_weeks_week ON signal_weeks(week);
        CREATE INDEX keyword_weeks_week ON keyword_weeks(week);
        """
    )


def m007_items_body_dropped(db: sqlite_utils.Database) -> None:
    """1 once retention (``settings.keep_bodies``) dropped the item's full text: it is then frozen."""
    db.executescript("ALTER TABLE items ADD COLUMN body_dropped INTEGER NOT NULL DEFAULT 0;")


def m008_signal_example(db: sqlite_utils.Database) -> None:
    """A signal's most representative headline, kept beside its name (``title``, made from keyphrases)."""
    db.executescript(
        """
        ALTER TABLE signals ADD COLUMN example TEXT NOT NULL DEFAULT '';
        """
    )


def m009_digest_records(db: sqlite_utils.Database) -> None:
    """Each week's digest as first written (its JSON), so regenerating the week gives the same files."""
    db.executescript(
        """
        CREATE TABLE digest_records (
            week TEXT PRIMARY KEY,                     -- YYYY-Www
            written_at TEXT NOT NULL,                  -- when the record was made (the digest's `now`)
            data TEXT NOT NULL                         -- the digest's JSON, as reports/YYYY-Www.json
        );
        """
    )


def m010_trends(db: sqlite_utils.Database) -> None:
    """Trends: groups of signals on one matter, tracked like signals (``scanner.analysis.trends``)."""
    db.executescript(
        """
        CREATE TABLE trends (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',            -- name made from its keyphrases
            custom_title TEXT,                         -- set by an analyst (scanner trends rename)
            example TEXT NOT NULL DEFAULT '',          -- its most representative headline
            keywords TEXT NOT NULL DEFAULT '{}',       -- JSON {"th": [...], "en": [...], "all": [...]}
            state TEXT NOT NULL DEFAULT 'new',         -- as a signal's
            status TEXT NOT NULL DEFAULT 'active',     -- active | merged | faded
            merged_into INTEGER REFERENCES trends(id),
            centroid BLOB,                             -- float32: mean of its signals' unit means
            model TEXT,
            first_seen TEXT NOT NULL,                  -- ISO week YYYY-Www
            last_seen TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE signal_trends (                   -- current trend of a signal
            signal_id INTEGER PRIMARY KEY REFERENCES signals(id),
            trend_id INTEGER NOT NULL REFERENCES trends(id),
            pinned_by TEXT,                            -- the analyst who moved it there (kept by the engine)
            updated_at TEXT NOT NULL
        );
        CREATE INDEX signal_trends_trend ON signal_trends(trend_id);
        CREATE TABLE trend_weeks (
            trend_id INTEGER NOT NULL REFERENCES trends(id),
            week TEXT NOT NULL,
            items INTEGER NOT NULL DEFAULT 0,
            stories INTEGER NOT NULL DEFAULT 0,
            signals INTEGER NOT NULL DEFAULT 0,        -- its signals with an item that week
            dod REAL,
            state TEXT,
            PRIMARY KEY (trend_id, week)
        );
        CREATE INDEX trend_weeks_week ON trend_weeks(week);
        CREATE TABLE trend_events (
            id INTEGER PRIMARY KEY,
            trend_id INTEGER NOT NULL,
            week TEXT NOT NULL,
            event TEXT NOT NULL,                       -- born|merged|split|faded|revived|moved|renamed
            detail TEXT NOT NULL DEFAULT '{}',
            by TEXT NOT NULL DEFAULT 'engine',
            created_at TEXT NOT NULL
        );
        CREATE INDEX trend_events_trend ON trend_events(trend_id);
        """
    )


def m011_item_novelty(db: sqlite_utils.Database) -> None:
    """How new each relevant item was when it arrived (``scanner.analysis.novelty``): one row per item."""
    db.executescript(
        """
        CREATE TABLE item_novelty (
            item_id INTEGER PRIMARY KEY REFERENCES items(id),
            content_hash TEXT NOT NULL,                -- the text it was computed for
            model TEXT NOT NULL,                       -- the embedding model it was computed with
            novelty REAL NOT NULL,                     -- 1 - max(0, cosine to the most similar earlier item)
            nearest_id INTEGER,                        -- that earlier item (NULL: none earlier, or none similar)
            earlier INTEGER NOT NULL,                  -- how many earlier items it was compared with
            computed_at TEXT NOT NULL
        );
        """
    )


def m013_deliveries(db: sqlite_utils.Database) -> None:
    """One row per week and delivery channel (``digest.deliver``): delivered, or failed and retried on
    the next run. The e-mails already sent (``digests.emailed_at``) count as delivered to ``email``."""
    db.executescript(
        """
        CREATE TABLE deliveries (
            week TEXT NOT NULL,                        -- YYYY-Www
            channel TEXT NOT NULL,                     -- the channel's name (email, teams, slack-2 …)
            kind TEXT NOT NULL,                        -- email | webhook
            format TEXT,                               -- teams | slack | json (webhooks)
            status TEXT NOT NULL,                      -- ok | failed
            attempts INTEGER NOT NULL DEFAULT 0,       -- deliveries tried (each with its own retries)
            first_attempt TEXT NOT NULL,
            last_attempt TEXT NOT NULL,
            delivered_at TEXT,
            error TEXT,                                -- the last failure (never holds a secret URL)
            PRIMARY KEY (week, channel)
        );
        INSERT INTO deliveries (week, channel, kind, status, attempts, first_attempt, last_attempt, delivered_at)
            SELECT week, 'email', 'email', 'ok', 1, emailed_at, emailed_at, emailed_at FROM digests
            WHERE emailed_at IS NOT NULL;
        """
    )


def m012_workspace(db: sqlite_utils.Database) -> None:
    """The browser workspace (``scanner serve``): accounts, API tokens, sessions, login failures,
    ratings, comments and the audit trail of every change made by a person."""
    db.executescript(
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            role TEXT NOT NULL,                        -- admin | curator | contributor | viewer
            password_hash TEXT,                        -- argon2id (argon2-cffi); never the password
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            token_hash TEXT NOT NULL UNIQUE,           -- sha256 of the token; the token is shown once
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,                       -- sha256 of the random id the signed cookie carries
            user_id INTEGER NOT NULL REFERENCES users(id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT                              -- logout, or the account disabled
        );
        CREATE TABLE login_failures (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,                        -- the user name tried, lower case (known or not)
            at TEXT NOT NULL
        );
        CREATE INDEX login_failures_name ON login_failures(name, at);
        CREATE TABLE workspace_secret (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            secret TEXT NOT NULL                       -- signs session and CSRF values; made on first start
        );
        CREATE TABLE ratings (                         -- FTSS scales, one row per signal and person
            signal_id INTEGER NOT NULL REFERENCES signals(id),
            by TEXT NOT NULL,
            novelty INTEGER NOT NULL CHECK (novelty BETWEEN 1 AND 5),
            horizon TEXT NOT NULL CHECK (horizon IN ('H1', 'H2', 'H3')),
            impact INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 3),
            rated_at TEXT NOT NULL,
            PRIMARY KEY (signal_id, by)
        );
        CREATE TABLE comments (
            id INTEGER PRIMARY KEY,
            signal_id INTEGER NOT NULL REFERENCES signals(id),
            by TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX comments_signal ON comments(signal_id);
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            by TEXT NOT NULL,
            action TEXT NOT NULL,                      -- review | rename | merge | rate | comment | user.* | token.*
            target TEXT NOT NULL,                      -- signal:12, user:alice …
            before TEXT NOT NULL DEFAULT 'null',       -- JSON
            after TEXT NOT NULL DEFAULT 'null'         -- JSON
        );
        CREATE INDEX audit_target ON audit(target, id);
        """
    )


def m014_labels(db: sqlite_utils.Database) -> None:
    """What analysts taught the engine about items (``scanner.store.labels``): one row per mark, move
    or submission, never rewritten; the latest row of an item and kind is the one that counts."""
    db.executescript(
        """
        CREATE TABLE item_labels (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL REFERENCES items(id),
            kind TEXT NOT NULL CHECK (kind IN ('relevance', 'signal')),
            value TEXT NOT NULL,                       -- relevance: relevant | not_relevant; signal: an id | out
            by TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX item_labels_item ON item_labels(item_id, kind, id);
        """
    )


def m015_ftss(db: sqlite_utils.Database) -> None:
    """Where each signal was published in UNDP's Future Trends and Signals System (``scanner publish
    ftss``): the remote id per signal and FTSS address, so a re-publish updates instead of duplicating.
    No token is ever stored."""
    db.executescript(
        """
        CREATE TABLE ftss_signals (
            signal_id INTEGER NOT NULL REFERENCES signals(id),
            base_url TEXT NOT NULL,                    -- the FTSS API address it was published to
            remote_id INTEGER NOT NULL,                -- FTSS's id of the signal
            published_at TEXT NOT NULL,                -- first POST
            updated_at TEXT NOT NULL,                  -- latest POST or PUT
            PRIMARY KEY (signal_id, base_url)
        );
        """
    )


def m016_llm_names(db: sqlite_utils.Database) -> None:
    """Names from a language model (``analysis.namer: llm``, ``scanner.analysis.namer``): each signal's and
    trend's one-paragraph summary beside its name, and the model's answers by the content hash of what it
    was asked, so a rerun with the same material asks nothing."""
    db.executescript(
        """
        ALTER TABLE signals ADD COLUMN summary TEXT NOT NULL DEFAULT '';   -- '' with the keyphrase namer
        ALTER TABLE trends ADD COLUMN summary TEXT NOT NULL DEFAULT '';
        CREATE TABLE llm_answers (
            prompt_hash TEXT PRIMARY KEY,              -- sha256 of the model's name, prompt version and prompt
            model TEXT NOT NULL,                       -- analysis.llm_model, as written
            prompt_version INTEGER NOT NULL,
            answer TEXT NOT NULL,                      -- the model's answer as given (read again on every use)
            created_at TEXT NOT NULL
        );
        """
    )


def m017_similarity_calibration(db: sqlite_utils.Database) -> None:
    """The similarity calibration's reference cosines of a model that ships none (``scanner.analysis.calibration``):
    a sentence-transformers model embeds the reference pairs once per database."""
    db.executescript(
        """
        CREATE TABLE similarity_calibration (
            model TEXT PRIMARY KEY,                    -- Embedder.model_id
            pairs_digest TEXT NOT NULL,                -- which reference pairs (their texts' and indices' hash)
            cosines TEXT NOT NULL,                     -- JSON {"pairs": [...], "means": [...]}, in file order
            created_at TEXT NOT NULL
        );
        """
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    m001_create_sources_fetches_items,
    m002_create_analysis,
    m003_create_reviews_digests_heartbeat,
    m004_signal_events_by,
    m005_index_items_by_source_and_date,
    m006_index_weekly_rows_by_week,
    m007_items_body_dropped,
    m008_signal_example,
    m009_digest_records,
    m010_trends,
    m011_item_novelty,  # readers select it (export items, the digest, items --explain): not in READERS_DO_NOT_NEED
    m012_workspace,  # only `scanner serve` and `scanner users` read it, and they open the database to write
    m013_deliveries,  # `scanner status` selects it: not in READERS_DO_NOT_NEED
    m014_labels,  # `items --explain` and the item pages read it: not in READERS_DO_NOT_NEED
    m015_ftss,  # only `scanner publish ftss` reads it
    m016_llm_names,  # readers select signals.summary (export, the digest): not in READERS_DO_NOT_NEED
    m017_similarity_calibration,  # only `scanner analyse` reads it
]

# Migrations that only add what readers never select (an index, a column written by the engine, a
# table only a writing command reads), so a read-only open of a database that lacks them reads it
# as it is; any other pending migration makes readers ask for a command that writes (it upgrades
# the database).
READERS_DO_NOT_NEED = frozenset({
    "m004_signal_events_by", "m005_index_items_by_source_and_date", "m006_index_weekly_rows_by_week",
    "m007_items_body_dropped", "m009_digest_records", "m012_workspace", "m015_ftss",
    "m017_similarity_calibration",
})
