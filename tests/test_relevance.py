"""Relevance on real Thai items: topic similarity + token-boundary keyword hits, stored per item."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scanner.analysis.embed import UseEmbedder
from scanner.analysis.relevance import (
    SIMILARITY_ONLY_WEIGHTS,
    KeywordMatcher,
    config_topics,
    default_topics,
    explain_item,
    match_tokens,
    score_relevance,
)
from scanner.cli import cli
from scanner.config import Config, FileSource, Topic
from scanner.errors import ScannerError
from scanner.models import RawItem
from scanner.prepare import store_items
from scanner.store import Store
from scanner.store.signals import relevant_ids

TOPIC_IDS = [
    "digital-id-eservices",
    "data-sharing-open-data",
    "cyber-security-fraud",
    "digital-skills-divide",
    "ai-emerging-tech",
    "digital-economy-platforms",
    "public-procurement",
    "digital-governance-law",
]


@pytest.fixture(scope="module")
def use() -> UseEmbedder:
    return UseEmbedder()


def analysis_config(**analysis: Any) -> Config:
    return Config.model_validate({"sources": [{"id": "thaigov", "kind": "file", "path": "x.jsonl"}],
                                  "analysis": {"embedder": "use", **analysis}})


def add_rows(store: Store, rows: list[dict[str, Any]]) -> list[int]:
    store.sync_sources(Config(sources=[FileSource(id="thaigov", kind="file", path="x.jsonl")]))
    raws = [RawItem(url=r["url"], title=r["title"], content=r["body"], lang=r.get("lang"),
                    published=datetime.fromisoformat(r["published"][:10]).replace(tzinfo=UTC)) for r in rows]
    return store_items(store, "thaigov", raws, datetime(2025, 4, 1, tzinfo=UTC)).item_ids


def first_of_each(thaigov: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The first ``n`` relevant and first ``n`` unrelated items, in file order (no picking)."""
    return [r for r in thaigov if r["relevant"]][:n] + [r for r in thaigov if not r["relevant"]][:n]


# --------------------------------------------------------------------------- topics


def test_shipped_topics_cover_thai_digital_government_in_both_languages() -> None:
    topics = default_topics()
    assert [t.id for t in topics] == TOPIC_IDS
    for t in topics:
        assert t.name and len(t.description_th) > 150 and len(t.description_en) > 150
        assert any("\u0e00" <= ch <= "\u0e7f" for ch in t.description_th)
        assert any(kw.isascii() for kw in t.keywords)
        assert any(not kw.isascii() for kw in t.keywords)
    keywords = {kw for t in topics for kw in t.keywords}
    assert {"รัฐบาลดิจิทัล", "สพร.", "DGA", "ThaID", "ทางรัฐ", "ข้อมูลเปิด", "ไซเบอร์", "สกมช.", "บัญชีม้า",
            "แก๊งคอลเซ็นเตอร์", "PDPA", "ปัญญาประดิษฐ์", "e-GP", "จัดซื้อจัดจ้าง"} <= keywords


def test_config_topics_fall_back_to_the_shipped_ones(make_config: Callable[[str], Config]) -> None:
    assert [t.id for t in config_topics(make_config("sources: []\n"))] == TOPIC_IDS
    own = make_config(
        """
        topics:
          - id: rice
            description_th: ราคาข้าว
            description_en: rice prices
            keywords: [ข้าว]
        """
    )
    assert [t.id for t in config_topics(own)] == ["rice"]


# --------------------------------------------------------------------------- keywords on tokens


def hits(text: str, keywords: list[str]) -> list[tuple[str, int, list[str]]]:
    matcher = KeywordMatcher([Topic(id="t", description_th="-", description_en="-", keywords=keywords)])
    return [(h.keyword, h.count, h.tokens) for h in matcher.find(match_tokens(text))]


def test_thai_keyword_does_not_match_inside_a_longer_word() -> None:
    # "ทางรัฐ" (the government app) is a substring of "ทางรัฐบาล" (via the government), but newmm
    # splits that as ทาง|รัฐบาล, so the keyword's tokens ทาง|รัฐ do not occur.
    text = "ประชาชนสามารถติดต่อทางรัฐบาลได้ทุกวัน"
    assert "ทางรัฐ" in text
    assert hits(text, ["ทางรัฐ"]) == []
    assert hits("ดาวน์โหลดแอปทางรัฐเพื่อยืนยันตัวตน", ["ทางรัฐ", "ยืนยันตัวตน"]) == [
        ("ทางรัฐ", 1, ["ทาง", "รัฐ"]),
        ("ยืนยันตัวตน", 1, ["ยืนยัน", "ตัวตน"]),
    ]
    assert hits("ม้าลายในสวนสัตว์", ["ม้า"]) == []


def test_keyword_matches_whole_tokens_even_when_newmm_splits_it_differently() -> None:
    # "สพร." alone tokenises as สพ|ร. ; in running text the period is dropped: still one run of tokens
    assert hits("สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน) หรือ สพร. เปิดบริการ", ["สพร.", "รัฐบาลดิจิทัล"]) == [
        ("สพร.", 1, ["สพ", "ร"]),
        ("รัฐบาลดิจิทัล", 1, ["รัฐบาล", "ดิจิทัล"]),
    ]


def test_english_keywords_are_case_insensitive_whole_words() -> None:
    assert hits("He said the MAIL was late", ["AI"]) == []
    assert hits("AI-based fraud detection by the ai team", ["AI"]) == [("AI", 2, ["ai"])]
    assert hits("ระบบ e-GP ของกรมบัญชีกลาง และ Open Data ของ data.go.th", ["e-GP", "open data", "data"]) == [
        ("e-GP", 1, ["e", "gp"]),
        ("open data", 1, ["open", "data"]),
        ("data", 1, ["data"]),
    ]


def test_overlapping_keywords_count_a_mention_once_longest_first() -> None:
    text = "ตำรวจไซเบอร์จับแก๊งคอลเซ็นเตอร์ และคอลเซ็นเตอร์อีกแห่ง"
    assert hits(text, ["คอลเซ็นเตอร์", "แก๊งคอลเซ็นเตอร์", "ไซเบอร์", "ตำรวจไซเบอร์"]) == [
        ("คอลเซ็นเตอร์", 1, ["คอลเซ็นเตอร์"]),
        ("แก๊งคอลเซ็นเตอร์", 1, ["แก๊ง", "คอลเซ็นเตอร์"]),
        ("ตำรวจไซเบอร์", 1, ["ตำรวจ", "ไซเบอร์"]),
    ]


# --------------------------------------------------------------------------- scoring real items


def test_score_relevance_on_real_thaigov_items(store: Store, use: UseEmbedder,
                                               thaigov: list[dict[str, Any]]) -> None:
    rows = first_of_each(thaigov, 10)
    ids = add_rows(store, rows)
    stats = score_relevance(store, analysis_config(), use)
    assert (stats.scored, stats.total) == (20, 20)
    got = {r["item_id"]: r for r in store.query("SELECT * FROM item_relevance")}
    decisions = [bool(got[i]["relevant"]) for i in ids]
    assert decisions == [r["relevant"] for r in rows]
    assert stats.relevant == 10
    for i in ids:
        assert 0.0 <= got[i]["relevance"] <= 1.0
        assert got[i]["model"].startswith("use-multilingual-v3#")
        assert (json.loads(got[i]["topics"]) != []) == bool(got[i]["relevant"])
    # scoring reads tokens from the full-text index; explaining tokenises afresh: the same hits
    for i in ids[:4]:
        assert explain_item(store, analysis_config(), use, i)["keywords"] == json.loads(got[i]["explain"])["keywords"]
    # a fraud warning from the AOC 1441 centre is about cyber security and online fraud
    aoc = ids[[r["id"] for r in rows].index("thaigov-87690")]
    assert json.loads(got[aoc]["topics"])[0] == "cyber-security-fraud"


def test_only_changed_items_are_rescored(store: Store, use: UseEmbedder, thaigov: list[dict[str, Any]]) -> None:
    rows = first_of_each(thaigov, 3)
    ids = add_rows(store, rows)
    config = analysis_config()
    assert score_relevance(store, config, use).scored == 6
    assert score_relevance(store, config, use).scored == 0
    changed = dict(rows[0], body=rows[0]["body"] + "\nแก้ไขเพิ่มเติม")
    add_rows(store, [changed])
    assert score_relevance(store, config, use, ids).scored == 1
    assert score_relevance(store, config, use, ids[3:]).scored == 0
    # another threshold or topic list is another model key: everything is rescored, nothing re-embedded
    embedded = store.query("SELECT count(*) AS n FROM embeddings")[0]["n"]
    assert score_relevance(store, analysis_config(relevance_threshold=0.9), use).scored == 6
    assert store.query("SELECT count(*) AS n FROM embeddings")[0]["n"] == embedded == 7


def test_threshold_is_configurable(store: Store, use: UseEmbedder, thaigov: list[dict[str, Any]]) -> None:
    add_rows(store, first_of_each(thaigov, 4))
    assert score_relevance(store, analysis_config(relevance_threshold=0.0), use).relevant == 8
    assert score_relevance(store, analysis_config(relevance_threshold=1.0), use).relevant == 0
    stats = score_relevance(store, analysis_config(relevance_threshold=0.5), use)
    scores = sorted(r["relevance"] for r in store.query("SELECT relevance FROM item_relevance"))
    assert stats.relevant == sum(s >= 0.5 for s in scores) == 4


def test_keyword_weight_zero_uses_similarity_only(store: Store, use: UseEmbedder,
                                                  thaigov: list[dict[str, Any]]) -> None:
    ids = add_rows(store, first_of_each(thaigov, 2))
    config = analysis_config(keyword_weight=0)
    score_relevance(store, config, use)
    explained = explain_item(store, config, use, ids[0])
    assert explained["terms"]["bias"] == SIMILARITY_ONLY_WEIGHTS.bias
    assert explained["terms"]["title_keywords"] == 0.0
    assert explained["terms"]["body_keywords"] == 0.0
    assert explained["keywords"]["title"]  # hits are still reported, they just weigh nothing


def test_relevant_ids_by_publication_window(store: Store, use: UseEmbedder) -> None:
    rows = [
        {"url": f"https://www.example.go.th/{n}", "title": title, "body": body, "published": day}
        for n, (day, title, body) in enumerate([
            ("2025-01-06", "ดีอี เตือนภัยแก๊งคอลเซ็นเตอร์", "ตำรวจไซเบอร์เตือนแก๊งคอลเซ็นเตอร์หลอกโอนเงิน บัญชีม้า"),
            ("2025-01-13", "ราคาข้าวหอมมะลิสูงขึ้น", "เกษตรกรขายข้าวได้ราคาดีหลังฤดูเก็บเกี่ยว"),
            ("2025-01-20", "สพร. เปิดบริการ ThaID", "รัฐบาลดิจิทัล แอปทางรัฐ ยืนยันตัวตนด้วย ThaID"),
        ])
    ]
    ids = add_rows(store, rows)
    score_relevance(store, analysis_config(), use)
    start, end = "2025-01-06T00:00:00+00:00", "2025-01-20T00:00:00+00:00"
    assert relevant_ids(store, start, end) == [ids[0], ids[2]]  # both ends of the window are inside
    assert relevant_ids(store, "2025-01-06T00:00:01+00:00", end) == [ids[2]]
    assert relevant_ids(store, start, "2025-01-19T23:59:59+00:00") == [ids[0]]


# --------------------------------------------------------------------------- explain


def test_explain_item_says_why(store: Store, use: UseEmbedder, thaigov: list[dict[str, Any]]) -> None:
    rows = first_of_each(thaigov, 1)
    ids = add_rows(store, rows)
    config = analysis_config()
    assert explain_item(store, config, use, ids[0])["stored"] is None
    score_relevance(store, config, use)
    kept = explain_item(store, config, use, ids[0])
    assert (kept["item_id"], kept["decision"], kept["threshold"]) == (ids[0], "kept", 0.5)
    assert kept["stored"]["relevant"] is True
    assert kept["stored"]["up_to_date"] is True
    assert kept["stored"]["relevance"] == pytest.approx(kept["score"], abs=5e-5)
    assert explain_item(store, analysis_config(relevance_threshold=0.4), use, ids[0])["stored"]["up_to_date"] is False
    assert kept["score"] >= 0.5
    assert set(kept["similarity"]) == set(TOPIC_IDS)
    title_hits = {h["keyword"]: h["tokens"] for h in kept["keywords"]["title"]}
    assert title_hits["ข่าวปลอม"] == ["ข่าว", "ปลอม"]
    assert title_hits["ดีอี"] == ["ดี", "อี"]
    assert kept["rule"].startswith("keywords")
    dropped = explain_item(store, config, use, ids[1])
    assert (dropped["decision"], dropped["keywords"]) == ("left out", {"title": [], "body": []})
    assert dropped["rule"] == "no keyword hits and not similar enough to any topic"
    with pytest.raises(ScannerError, match="no item with id 999"):
        explain_item(store, config, use, 999)


def test_cli_items_explain(write_config: Callable[[str], Path], tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text("", encoding="utf-8")
    path = write_config(
        """
        sources:
          - {id: thaigov, kind: file, path: x.jsonl}
        analysis:
          embedder: use
        """
    )
    with Store.open(tmp_path / "signals.db") as store:
        [item_id] = add_rows(store, [{
            "url": "https://www.thaigov.go.th/news/1", "published": "2025-01-06",
            "title": "ดีอี เตือนภัยแก๊งคอลเซ็นเตอร์",
            "body": "ประชาชนติดต่อทางรัฐบาลได้ ตำรวจไซเบอร์เตือนแก๊งคอลเซ็นเตอร์หลอกโอนเงิน",
        }])
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(path), "items", "--explain", str(item_id)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"item {item_id}: ดีอี เตือนภัยแก๊งคอลเซ็นเตอร์"
    assert lines[1].startswith("decision: kept (score ")
    assert lines[1].endswith(" >= threshold 0.50)")
    assert lines[4] == "stored: not scored yet (`scanner analyse` scores new items)"
    assert "keyword hits in the title:" in lines
    assert "  แก๊งคอลเซ็นเตอร์ ×1 [cyber-security-fraud] matched tokens: แก๊ง | คอลเซ็นเตอร์" in lines
    assert "  ตำรวจไซเบอร์ ×1 [cyber-security-fraud] matched tokens: ตำรวจ | ไซเบอร์" in lines
    assert not any("ทางรัฐ" in line for line in lines)  # "ทางรัฐบาล" is not the app "ทางรัฐ"

    as_json = runner.invoke(cli, ["--config", str(path), "items", "--explain", str(item_id), "--format", "json"])
    assert as_json.exit_code == 0
    data = json.loads(as_json.output)
    assert (data["item_id"], data["decision"], data["relevant"], data["model"]) == (item_id, "kept", True,
                                                                                    "use-multilingual-v3")
    assert [h["keyword"] for h in data["keywords"]["title"]] == ["แก๊งคอลเซ็นเตอร์", "ดีอี"]

    missing = runner.invoke(cli, ["--config", str(path), "items", "--explain", "999"])
    assert missing.exit_code == 1
    assert "Error: no item with id 999" in missing.output


def test_keyword_weight_is_validated_with_its_line(make_config: Callable[[str], Config]) -> None:
    from scanner.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        make_config("sources: []\nanalysis:\n  keyword_weight: -1\n")
    assert err.value.problems == [
        f"{Path('sources.yaml').resolve()}:3: analysis.keyword_weight: Input should be greater than or equal to 0"
    ]
