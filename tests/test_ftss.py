"""``scanner export signals --format ftss`` and ``scanner publish ftss`` against a local fake FTSS."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scanner import ftss
from scanner.cli import cli
from scanner.clock import UTC
from scanner.config import load_config
from scanner.errors import ConfigError
from scanner.store import Store
from scanner.store.ratings import rate_signal
from scanner.store.reviews import add_review
from tests import fake_ftss
from tests.fake_ftss import FakeFtss, FakeFtssServer
from tests.signal_data import add_items

TOKEN = "ftss-secret-token-7f3a9c"  # a test token: it must never show in output, logs or the database
AT = datetime(2025, 3, 24, 3, tzinfo=UTC)
CONFIG = """
settings:
  allow_hosts: ['127.0.0.1']
ftss:
  created_unit: UNDP Thailand Accelerator Lab
"""


def add_signal(store: Store, title: str, example: str, item_ids: list[int], tags: dict[str, list[str]],
               keywords: dict[str, list[str]], state: str = "weak") -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO signals (title, keywords, state, topics, tags, first_seen, last_seen, created_at, updated_at, "
            "example) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (title, json.dumps(keywords, ensure_ascii=False), state, "[]", json.dumps(tags), "2025-W10", "2025-W13",
             AT.isoformat(), AT.isoformat(), example))
        sid = int(cur.lastrowid or 0)
        for k, item in enumerate(item_ids):
            conn.execute("INSERT INTO signal_items (item_id, signal_id, similarity, assigned_week) VALUES (?,?,?,?)",
                         (item, sid, 0.9 - k / 100, "2025-W13"))
        for week, n in (("2025-W10", 0), ("2025-W13", len(item_ids))):
            conn.execute("INSERT INTO signal_weeks (signal_id, week, items, stories, sources, source_kinds, state) "
                         "VALUES (?,?,?,?,?,?,?)", (sid, week, n, n, 1, 1, state))
    return sid


@pytest.fixture
def lab(tmp_path: Path, write_config: Callable[[str], Path]) -> Iterator[tuple[Path, dict[str, int]]]:
    """A sources file and a database with four signals: kept and rated (Thai), kept and unrated,
    watched, and never reviewed."""
    path = write_config(CONFIG)
    store = Store.open(tmp_path / "signals.db")
    fraud = add_items(store, [("fraud", "ตำรวจไซเบอร์ปิดบัญชีม้า 3,000 บัญชี", "2025-03-05"),
                              ("fraud", "ธปท. ออกมาตรการสกัดบัญชีม้า", "2025-03-18"),
                              ("fraud", "แก๊งคอลเซ็นเตอร์หลอกโอนเงินผู้สูงอายุ", "2025-03-20")])
    ai = add_items(store, [("ai", "DGA pilots a Thai chatbot for e-services", "2025-03-19"),
                           ("ai", "หน่วยงานรัฐทดลองใช้ปัญญาประดิษฐ์", "2025-03-21")], start=10)
    wifi = add_items(store, [("wifi", "เน็ตประชารัฐขยายสู่หมู่บ้านชนบท", "2025-03-20")], start=20)
    other = add_items(store, [("opendata", "Open data portal adds 500 datasets", "2025-03-20")], start=30)
    ids = {
        "fraud": add_signal(store, "บัญชีม้า · mule accounts", "ธปท. ออกมาตรการสกัดบัญชีม้า", fraud,
                            {"steepv": ["political", "values"], "themes": ["trust_in_government"],
                             "sdgs": ["sdg16", "sdg17"]},
                            {"th": ["บัญชีม้า", "มิจฉาชีพ", "โอนเงิน", "ตำรวจ"], "en": ["mule", "scam"],
                             "all": ["บัญชีม้า", "mule", "มิจฉาชีพ", "scam"]}),
        "ai": add_signal(store, "AI chatbots in e-services", "DGA pilots a Thai chatbot for e-services", ai,
                         {"steepv": ["technological"], "themes": ["digital_transformation", "government_innovation"],
                          "sdgs": ["sdg9"]},
                         {"th": ["ปัญญาประดิษฐ์"], "en": ["chatbot", "pilot"], "all": ["chatbot", "ปัญญาประดิษฐ์"]},
                         state="new"),
        "wifi": add_signal(store, "rural broadband", "เน็ตประชารัฐขยายสู่หมู่บ้านชนบท", wifi,
                           {"steepv": ["social"], "sdgs": ["sdg9"]}, {"th": ["อินเทอร์เน็ต"], "all": ["อินเทอร์เน็ต"]}),
        "other": add_signal(store, "open data", "Open data portal adds 500 datasets", other, {}, {"all": ["open"]}),
    }
    add_review(store, ids["fraud"], "keep", "somchai", AT, note="ปัญหาบัญชีม้ากระทบความเชื่อมั่นต่อบริการดิจิทัลภาครัฐ")
    add_review(store, ids["fraud"], "keep", "anna", AT, note="Mule accounts undermine trust in digital payments")
    add_review(store, ids["ai"], "keep", "anna", AT)
    add_review(store, ids["wifi"], "watch", "anna", AT, note="watch the budget")
    rate_signal(store, ids["fraud"], "somchai", 4, "H1", 2, AT)
    rate_signal(store, ids["fraud"], "anna", 5, "H2", 3, AT)  # median 4.5 → 5
    store.close()
    yield path, ids


@pytest.fixture
def server() -> Iterator[FakeFtss]:
    with FakeFtssServer(TOKEN) as fake:
        yield fake


def run(path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--config", str(path), *args], env=env or {})


def payloads(path: Path, *args: str) -> list[dict[str, Any]]:
    result = run(path, "export", "signals", "--format", "ftss", *args)
    assert result.exit_code == 0, result.output
    out: list[dict[str, Any]] = json.loads(result.stdout)
    return out


def test_enumerations_are_ftss_own() -> None:
    """The scanner's copy and the fake's (transcribed separately from FTSS's source) agree exactly."""
    assert list(ftss.STATUS.values()) == [s.value for s in fake_ftss.Status]
    assert list(ftss.STEEP.values()) == [s.value for s in fake_ftss.Steep]
    assert list(ftss.SIGNATURE.values()) == [s.value for s in fake_ftss.Signature]
    assert list(ftss.GOAL.values()) == [g.value for g in fake_ftss.Goal]
    assert list(ftss.SCORE.values()) == [s.value for s in fake_ftss.Score]
    assert tuple(fake_ftss.Signal.model_fields) == ftss.SIGNAL_FIELDS
    assert ftss.STEEP["TECHNOLOGICAL"] == ("Technological \u2013 Made culture, tools, devices, systems, "
                                           "infrastructure and networks")
    assert ftss.SCORE["ONE"].startswith("1 \u2014 Non-novel")
    assert ftss.GOAL["G16"] == "GOAL 16: Peace and Justice Strong Institutions"
    for _, value in ftss.TAG_MAP.values():
        assert value in {*ftss.STEEP.values(), *ftss.SIGNATURE.values(), *ftss.GOAL.values()}


def test_export_kept_signal_as_ftss_payload(lab: tuple[Path, dict[str, int]]) -> None:
    path, _ = lab
    out = payloads(path)
    assert [p["headline"] for p in out] == ["บัญชีม้า · mule accounts", "AI chatbots in e-services"]
    fraud = out[0]
    assert set(fraud) <= set(ftss.SIGNAL_FIELDS)
    assert fraud["status"] == "Draft" and fraud["location"] == "Thailand"
    assert fraud["created_unit"] == "UNDP Thailand Accelerator Lab"
    assert fraud["keywords"] == ["บัญชีม้า", "mule", "มิจฉาชีพ"]
    assert fraud["steep_primary"] == ftss.STEEP["POLITICAL"] and fraud["steep_secondary"] == [ftss.STEEP["VALUES"]]
    assert fraud["signature_primary"] == "Governance" and fraud["signature_secondary"] is None
    assert fraud["sdgs"] == ["GOAL 16: Peace and Justice Strong Institutions",
                             "GOAL 17: Partnerships to achieve the Goal"]
    assert fraud["score"] == ftss.SCORE["FIVE"]
    assert fraud["url"] == "https://example.org/news/1"  # the member whose headline is the example
    assert fraud["relevance"] == ("ปัญหาบัญชีม้ากระทบความเชื่อมั่นต่อบริการดิจิทัลภาครัฐ "
                                  "Mule accounts undermine trust in digital payments.")
    assert fraud["description"].startswith("Weak signal. Rare but rising with evidence: 3 items in the last 4 weeks "
                                              "against 0 in the 8 weeks before, 3 in all")
    assert "Keywords (Thai): บัญชีม้า, มิจฉาชีพ, โอนเงิน, ตำรวจ." in fraud["description"]
    assert "seen in 1 source (1 kind of source) in 2025-W13." in fraud["description"]  # not "this week"
    assert "3 items from 1 source (news)" in fraud["description"]
    assert "most representative: “ธปท. ออกมาตรการสกัดบัญชีม้า”" in fraud["description"]


def test_unrated_signal_has_no_score(lab: tuple[Path, dict[str, int]]) -> None:
    ai = payloads(lab[0])[1]
    assert ai["score"] is None
    assert ai["relevance"] is None  # kept without a note
    assert ai["signature_primary"] == "Digitalisation" and ai["signature_secondary"] == ["Strategic Innovation"]
    assert ai["sdgs"] == ["GOAL 9: Industry, Innovation and Infrastructure"]


def test_verdict_filter(lab: tuple[Path, dict[str, int]]) -> None:
    path, _ = lab
    assert [p["headline"] for p in payloads(path, "--verdict", "watch")] == ["rural broadband"]
    assert len(payloads(path, "--verdict", "all")) == 4
    result = run(path, "export", "signals", "--format", "csv", "--verdict", "keep")
    assert result.exit_code == 2 and "--verdict goes with --format ftss" in result.output


def test_thai_description(lab: tuple[Path, dict[str, int]]) -> None:
    path, _ = lab
    path.write_text(path.read_text(encoding="utf-8") + "  language: th\n", encoding="utf-8")
    fraud = payloads(path)[0]
    assert fraud["description"].startswith("สัญญาณอ่อน: 3 รายการใน 4 สัปดาห์ล่าสุด")
    assert "ตัวอย่าง: “ธปท. ออกมาตรการสกัดบัญชีม้า”" in fraud["description"]


def test_dry_run_sends_nothing(lab: tuple[Path, dict[str, int]], server: FakeFtss) -> None:
    path, ids = lab
    result = run(path, "publish", "ftss", "--url", server.url, "--dry-run")
    assert result.exit_code == 0, result.output
    sent = json.loads(result.stdout)
    assert [(r["signal_id"], r["method"], r["url"]) for r in sent] == [
        (ids["fraud"], "POST", f"{server.url}/signals"), (ids["ai"], "POST", f"{server.url}/signals")]
    assert sent[0]["body"]["headline"] == "บัญชีม้า · mule accounts"
    assert server.requests == []


def test_publish_then_republish_updates(lab: tuple[Path, dict[str, int]], server: FakeFtss, tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    path, ids = lab
    env = {"FTSS_TOKEN": TOKEN}
    caplog.set_level(logging.DEBUG)
    first = run(path, "-vv", "publish", "ftss", "--url", server.url + "/", env=env)
    assert first.exit_code == 0, first.output
    assert f"signal {ids['fraud']} “บัญชีม้า · mule accounts”: created FTSS signal 100" in first.stdout
    assert first.stdout.splitlines()[-1] == f"{server.url}: 2 created, 0 updated, 0 failed"
    assert [(r.method, r.path, r.status) for r in server.requests] == [("POST", "/signals", 201)] * 2
    assert server.requests[0].body["headline"] == "บัญชีม้า · mule accounts"  # Thai intact on the wire
    assert server.signals[100]["keywords"] == ["บัญชีม้า", "mule", "มิจฉาชีพ"]

    server.signals[100]["status"] = "Approved"  # a curator approved it in FTSS
    second = run(path, "publish", "ftss", "--url", server.url, env=env)
    assert second.exit_code == 0, second.output
    assert second.stdout.splitlines()[-1] == f"{server.url}: 0 created, 2 updated, 0 failed"
    assert [(r.method, r.path, r.status) for r in server.requests[2:]] == [
        ("GET", "/signals/100", 200), ("PUT", "/signals/100", 200),
        ("GET", "/signals/101", 200), ("PUT", "/signals/101", 200)]
    assert sorted(server.signals) == [100, 101]  # updated, not duplicated
    assert server.signals[100]["status"] == "Approved"  # not put back to Draft
    assert all(r.token_ok for r in server.requests) and server.unknown == []

    with Store.open(tmp_path / "signals.db") as store:
        assert store.query("SELECT signal_id, base_url, remote_id FROM ftss_signals ORDER BY signal_id") == [
            {"signal_id": ids["fraud"], "base_url": server.url, "remote_id": 100},
            {"signal_id": ids["ai"], "base_url": server.url, "remote_id": 101}]
    dump = (tmp_path / "signals.db").read_bytes()
    assert TOKEN.encode() not in dump
    for text in (first.output, second.output, caplog.text):
        assert TOKEN not in text


def test_server_rejection_names_signal_and_field(lab: tuple[Path, dict[str, int]], server: FakeFtss,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path, ids = lab
    monkeypatch.setitem(ftss.TAG_MAP, ("steepv", "political"), ("steep", "Political"))  # not FTSS's string
    result = run(path, "publish", "ftss", "--url", server.url, env={"FTSS_TOKEN": TOKEN})
    assert result.exit_code == 1
    assert (f"failed: signal {ids['fraud']} “บัญชีม้า · mule accounts”: FTSS rejected it (HTTP 422): "
            "field steep_primary: Input should be") in result.stderr
    assert f"signal {ids['ai']} “AI chatbots in e-services”: created FTSS signal 100" in result.stdout
    assert "Error: 1 of 2 signals were not published" in result.stderr
    assert TOKEN not in result.output


def test_too_many_keywords_rejected(lab: tuple[Path, dict[str, int]], server: FakeFtss,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ftss, "MAX_KEYWORDS", 4)
    result = run(lab[0], "publish", "ftss", "--url", server.url, env={"FTSS_TOKEN": TOKEN})
    assert result.exit_code == 1
    assert "field keywords: List should have at most 3 items" in result.stderr


def test_a_create_is_sent_again_only_when_it_cannot_have_been_made(lab: tuple[Path, dict[str, int]],
                                                                    server: FakeFtss) -> None:
    server.fail_next = [503, 429]  # unavailable, too many requests: nothing was made
    result = run(lab[0], "publish", "ftss", "--url", server.url, env={"FTSS_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert [(r.method, r.status) for r in server.requests] == [("POST", 503), ("POST", 429), ("POST", 201),
                                                               ("POST", 201)]
    assert sorted(server.signals) == [100, 101]


def test_a_create_answered_with_502_is_not_sent_twice(lab: tuple[Path, dict[str, int]], server: FakeFtss) -> None:
    """After a 502 (or 500, 504) FTSS may have made the signal: sending it again could make two."""
    server.fail_next = [502]
    result = run(lab[0], "publish", "ftss", "--url", server.url, env={"FTSS_TOKEN": TOKEN})
    assert result.exit_code != 0
    assert [(r.method, r.status) for r in server.requests] == [("POST", 502), ("POST", 201)]  # one try each
    assert "FTSS may have created it anyway" in result.output
    with Store.open(lab[0].parent / "signals.db") as store:  # the failed one got no remote id
        assert len(store.query("SELECT * FROM ftss_signals")) == 1


def test_wrong_token_and_missing_token(lab: tuple[Path, dict[str, int]], server: FakeFtss) -> None:
    wrong = "another-wrong-token-123"
    result = run(lab[0], "publish", "ftss", "--url", server.url, env={"FTSS_TOKEN": wrong})
    assert result.exit_code == 1
    assert "FTSS refused the access token (HTTP 401)" in result.stderr and wrong not in result.output
    missing = run(lab[0], "publish", "ftss", "--url", server.url, "--token-env", "LAB_FTSS")
    assert missing.exit_code == 2 and "set the environment variable LAB_FTSS" in missing.output
    assert len(server.requests) == 2


def test_internal_address_refused_unless_allowed(lab: tuple[Path, dict[str, int]], server: FakeFtss) -> None:
    path, _ = lab
    path.write_text(path.read_text(encoding="utf-8").replace("allow_hosts: ['127.0.0.1']", "allow_hosts: []"),
                    encoding="utf-8")
    result = run(path, "publish", "ftss", "--url", server.url, env={"FTSS_TOKEN": TOKEN})
    assert result.exit_code == 1 and "settings.allow_hosts" in result.stderr
    assert "failed: signal 1 “บัญชีม้า · mule accounts”: 127.0.0.1: resolves to 127.0.0.1" in result.stderr
    assert server.requests == []


def test_config_mistakes_name_file_line_and_field(write_config: Callable[[str], Path]) -> None:
    path = write_config("ftss:\n  created_unit: '  '\n  languages: th\n  location: ''\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    text = "\n".join(exc.value.problems)
    assert f"{path}:2: ftss.created_unit:" in text
    assert f"{path}:3: ftss.languages: unknown field" in text
    assert f"{path}:4: ftss.location:" in text
    assert load_config(write_config("sources: []\n")).ftss.created_unit == "UNDP Thailand Accelerator Lab"
