"""The optional LLM namer (``analysis.namer: llm``): names and summaries from a model reached through the
llm library, cached by content hash, never in the way of the analysis, always behind an analyst's rename.

The model is a fake registered with llm's own plugin hooks (``llm.hookimpl`` + ``register_models``): it
answers from the prompt it gets and counts its calls. Nothing here touches the network."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import llm
import numpy as np
import pytest
from click.testing import CliRunner
from markupsafe import escape

from scanner.analysis.analyse import analyse
from scanner.analysis.label import NAME_CHARS, signal_name
from scanner.analysis.namer import (
    MAX_FAILURES,
    PROMPT_TITLES,
    SUMMARY_CHARS,
    KeyphraseNamer,
    NamingInput,
    build_prompt,
    get_namer,
    naming_input,
    parse_answer,
    prompt_key,
)
from scanner.cli import cli
from scanner.clock import as_of_datetime
from scanner.config import Config, load_config
from scanner.config.models import AnalysisConfig
from scanner.digest import write_digest
from scanner.digest.render import escape_md
from scanner.errors import ConfigError, MissingDependencyError
from scanner.store import Store
from scanner.store.exports import signal_records
from scanner.store.reviews import rename_signal
from scanner.store.trends import rename_trend, trend_records
from tests.conftest import THAIGOV
from tests.signal_data import add_items

MODEL = "scanner-test-fake"
# The hashing embedder's trend threshold for these twelve releases to make a trend (the default is tuned
# for USE with keywords): the tests are about names, not about where trends form.
LLM_CONFIG = (f"analysis:\n  embedder: hashing\n  namer: llm\n  llm_model: {MODEL}\n  trend_threshold: 0.62\n"
              "sources: []\n")
KEYPHRASES = "analysis:\n  embedder: hashing\n  trend_threshold: 0.62\nsources: []\n"
DAYS = ["2025-01-06", "2025-01-08", "2025-01-10", "2025-01-13", "2025-01-15", "2025-01-17"]
AS_OF = "2025-01-19"  # Sunday of 2025-W03


def thai_reply(prompt: str) -> str:
    """A name and summary made from the prompt's first Thai keyword and first headline, in a code fence
    as chatty models write it."""
    lines = prompt.splitlines()
    keyword = next(line for line in lines if line.startswith("Thai keywords: "))[15:].split(", ")[0]
    headline = next(line for line in lines if line.startswith("1. "))[3:]
    answer = {"name": f"เรื่อง{keyword}", "summary": f"ข่าวเรื่อง{keyword} เช่น {headline}"}
    return "Here it is:\n```json\n" + json.dumps(answer, ensure_ascii=False) + "\n```"


class FakeModel(llm.Model):
    model_id = MODEL

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.reply: Callable[[str], str] = thai_reply

    def execute(self, prompt: Any, stream: bool, response: Any, conversation: Any) -> Iterator[str]:
        self.prompts.append(prompt.prompt)
        yield self.reply(prompt.prompt)


class FakePlugin:
    def __init__(self, model: FakeModel) -> None:
        self.model = model

    @llm.hookimpl
    def register_models(self, register: Callable[..., None]) -> None:
        register(self.model)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeModel]:
    """The fake model, registered with llm for one test (llm's own files go to the test folder)."""
    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path / "llm"))
    model = FakeModel()
    llm.plugins.pm.register(FakePlugin(model), name="scanner-test-fake")
    yield model
    llm.plugins.pm.unregister(name="scanner-test-fake")


@pytest.fixture(scope="module")
def releases() -> list[tuple[str, str, str]]:
    """Twelve real Thai government press releases, six on fake news and six on mule accounts, dated
    over two weeks of January 2025: (text, title, day)."""
    with THAIGOV.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    out = []
    for word in ("ข่าวปลอม", "บัญชีม้า"):
        hits = [r for r in rows if word in r["title"]][: len(DAYS)]
        out += [(r["body"][:1500], r["title"], day) for r, day in zip(hits, DAYS, strict=True)]
    return out


Build = Callable[[str, str], tuple[Config, Store]]


@pytest.fixture
def build(write_config: Callable[..., Path], releases: list[tuple[str, str, str]]) -> Iterator[Build]:
    """``build(name, config)``: the releases in a database of their own (``name.db``, its own
    ``name.yaml`` and reports folder), analysed once as of ``AS_OF``."""
    opened: list[Store] = []

    def make(name: str, config_text: str) -> tuple[Config, Store]:
        settings = f"settings:\n  db: {name}.db\n  reports_dir: {name}-reports\n"
        config = load_config(write_config(settings + config_text, name=f"{name}.yaml"))
        store = Store.open(config.db_path)
        opened.append(store)
        add_items(store, releases)
        run(config, store)
        return config, store

    yield make
    for s in opened:
        s.close()


def run(config: Config, store: Store, day: str = AS_OF) -> Any:
    return analyse(config, store, as_of_datetime(day, config.settings.timezone), relevance=False)


def rows(store: Store, table: str = "signals") -> list[dict[str, Any]]:
    return store.query(f"SELECT id, title, summary, example, keywords FROM {table} ORDER BY id")


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "scanner.analysis.namer"]


def keyphrase_names(build: Build) -> dict[str, list[tuple[int, str]]]:
    _, store = build("keyphrases", KEYPHRASES)
    return {t: [(r["id"], r["title"]) for r in rows(store, t)] for t in ("signals", "trends")}


# ------------------------------------------------------------------------------- the model names
def test_names_and_summaries_come_from_the_model(fake: FakeModel, build: Build) -> None:
    _, store = build("llm", LLM_CONFIG)
    signals, trends = rows(store), rows(store, "trends")
    assert len(signals) >= 3 and len(trends) >= 1  # the material makes several signals and a trend
    assert len(fake.prompts) == len(signals) + len(trends)  # one call each
    for r in signals + trends:
        first = json.loads(r["keywords"])["th"][0]
        assert r["title"] == f"เรื่อง{first}" and len(r["title"]) <= NAME_CHARS
        assert r["summary"].startswith(f"ข่าวเรื่อง{first} เช่น ")
    for prompt, r in zip(fake.prompts, signals, strict=False):  # signals are named first, in id order
        kw = json.loads(r["keywords"])
        assert f"Thai keywords: {', '.join(kw['th'][:8])}" in prompt  # the Thai keywords, as written
        assert f"English keywords: {', '.join(kw['en'][:8]) or '-'}" in prompt
        assert f"\n1. {r['example']}" in prompt  # the most central headline leads the titles
        assert "Write both in Thai." in prompt  # the members are Thai
    stored = store.query("SELECT model, prompt_version, answer FROM llm_answers")
    assert len(stored) == len(fake.prompts) and {r["model"] for r in stored} == {MODEL}


def test_a_rerun_with_the_same_material_asks_nothing(fake: FakeModel, build: Build) -> None:
    config, store = build("llm", LLM_CONFIG)
    run(config, store)  # the second run of a week settles it (items left over join the signals born in the first)
    before, calls = rows(store) + rows(store, "trends"), len(fake.prompts)
    fake.reply = lambda prompt: '{"name": "another answer"}'  # were it asked, the names would change
    result = run(config, store)  # the same week again: the same keywords and headlines
    assert len(fake.prompts) == calls  # no call: every answer came from llm_answers
    assert rows(store) + rows(store, "trends") == before
    assert result.lines[-1] == (f"names: {len(before)} from {MODEL} (0 asked, {len(before)} from the cache), "
                                "0 kept their keyphrase names")


@pytest.mark.parametrize("answer", [
    "",
    "   \n ",
    "I cannot help with that.",
    '{"summary": "no name"}',
    json.dumps({"name": "ก" * (NAME_CHARS + 1), "summary": "ok"}),
    json.dumps({"name": "สั้น", "summary": "ข" * (SUMMARY_CHARS + 1)}),
    '{"name": ["not", "text"]}',
])
def test_an_unusable_answer_keeps_the_keyphrase_name(answer: str, fake: FakeModel, build: Build,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    expected = keyphrase_names(build)
    fake.reply = lambda prompt: answer
    with caplog.at_level(logging.WARNING, logger="scanner.analysis.namer"):
        config, store = build("llm", LLM_CONFIG)
    assert {t: [(r["id"], r["title"]) for r in rows(store, t)] for t in ("signals", "trends")} == expected
    assert {r["summary"] for r in rows(store) + rows(store, "trends")} == {""}
    warned = warnings(caplog)
    assert len(warned) == len(fake.prompts) and all("keeps its keyphrase name" in w for w in warned)
    run(config, store)  # the second run of a week settles it (see the rerun test)
    calls = len(fake.prompts)
    run(config, store)  # an unusable answer is an answer: kept, not asked again
    assert len(fake.prompts) == calls


def test_a_failing_model_keeps_keyphrase_names_and_the_analysis_completes(
        fake: FakeModel, build: Build, caplog: pytest.LogCaptureFixture) -> None:
    expected = keyphrase_names(build)

    def broken(prompt: str) -> str:
        raise ConnectionError("ollama is not running on 127.0.0.1:11434")

    fake.reply = broken
    with caplog.at_level(logging.WARNING, logger="scanner.analysis.namer"):
        config, store = build("llm", LLM_CONFIG)
    assert {t: [(r["id"], r["title"]) for r in rows(store, t)] for t in ("signals", "trends")} == expected
    assert len(fake.prompts) == MAX_FAILURES  # then the run stopped asking
    messages = warnings(caplog)
    assert "ConnectionError: ollama is not running on 127.0.0.1:11434" in messages[0]
    assert f"failed {MAX_FAILURES} times in a row" in messages[-1]
    assert store.query("SELECT count(*) AS n FROM llm_answers") == [{"n": 0}]  # a failure is not an answer
    fake.reply = thai_reply  # the model is back: the next run asks again and names
    run(config, store)
    assert all(r["title"].startswith("เรื่อง") for r in rows(store))


def test_an_unknown_model_is_a_warning_not_a_failure(fake: FakeModel, build: Build,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    expected = keyphrase_names(build)
    with caplog.at_level(logging.WARNING, logger="scanner.analysis.namer"):
        _, store = build("llm", LLM_CONFIG.replace(MODEL, "no-such-model"))
    assert [(r["id"], r["title"]) for r in rows(store)] == expected["signals"]
    assert warnings(caplog) == [
        "analysis.llm_model 'no-such-model' is not a model llm knows (`llm models` lists them; install the llm "
        "plugin that serves it): names stay made from keyphrases"]
    assert fake.prompts == []


# ------------------------------------------------------------------------------- analysts, outputs
def test_an_analysts_rename_wins_over_the_models_name(fake: FakeModel, build: Build) -> None:
    config, store = build("llm", LLM_CONFIG)
    sid, tid = rows(store)[0]["id"], rows(store, "trends")[0]["id"]
    now = as_of_datetime("2025-01-20")
    rename_signal(store, sid, "ข่าวปลอมที่ดีอีเตือน", now, by="somchai")
    rename_trend(store, tid, "มิจฉาชีพออนไลน์", now, by="somchai")
    fake.reply = lambda prompt: '{"name": "ชื่อใหม่จากโมเดล", "summary": "สรุปใหม่"}'
    add_items(store, [("ดีอี เตือน ข่าวปลอม ระวังลิงก์หลอกลวง", "ดีอี เตือน ข่าวปลอม ลิงก์หลอกลวง", "2025-01-21")],
              start=100)
    run(config, store, "2025-01-26")  # new material: the model is asked again and names anew
    (signal,) = signal_records(store, ids=[sid], with_members=False)
    assert signal["name"] == signal["title"] == signal["custom_title"] == "ข่าวปลอมที่ดีอีเตือน"
    assert signal["auto_title"] == rows(store)[0]["title"] != signal["name"]  # the model's, kept apart
    (trend,) = [t for t in trend_records(store) if t["id"] == tid]
    assert trend["name"] == "มิจฉาชีพออนไลน์" and trend["auto_name"] != trend["name"]
    path = config.path
    assert path is not None
    out = CliRunner().invoke(cli, ["--config", str(path), "export", "signals", "--format", "json"])
    exported = {s["id"]: s for s in json.loads(out.output)}
    assert exported[sid]["name"] == "ข่าวปลอมที่ดีอีเตือน" and exported[sid]["summary"]


def test_export_and_the_digest_show_the_summary_and_a_written_week_keeps_its_own(
        fake: FakeModel, build: Build) -> None:
    config, store = build("llm", LLM_CONFIG)
    summaries = {r["id"]: r["summary"] for r in rows(store)}
    path = config.path
    assert path is not None
    out = CliRunner().invoke(cli, ["--config", str(path), "export", "signals", "--format", "json"])
    assert {s["id"]: s["summary"] for s in json.loads(out.output)} == summaries
    out = CliRunner().invoke(cli, ["--config", str(path), "signals", "show", str(min(summaries))])
    assert f"  summary: {summaries[min(summaries)]}" in out.output.splitlines()
    result = write_digest(config, store, "2025-W03", as_of_datetime("2025-01-20"))
    html, md, data = (p.read_text(encoding="utf-8") for p in result.paths[:3])
    cards = [c for s in json.loads(data)["sections"] for c in s["signals"]]
    assert cards and all(c["summary"] == summaries[c["id"]] for c in cards)
    for c in cards:
        assert f'<p class="summary">{escape(c["summary"])}</p>' in html and f"\n{escape_md(c['summary'])}\n" in md
    written = [p.read_bytes() for p in result.paths[:3]]
    # Later the model names differently and the signals are analysed again: the written week stays as it was.
    fake.reply = lambda prompt: '{"name": "ชื่อใหม่", "summary": "สรุปที่ต่างไป"}'
    add_items(store, [("ดีอี เตือน ข่าวปลอม ระวังลิงก์หลอกลวง", "ดีอี เตือน ข่าวปลอม ลิงก์", "2025-01-21")], start=100)
    run(config, store, "2025-01-26")
    assert "สรุปที่ต่างไป" in {r["summary"] for r in rows(store)}
    again = write_digest(config, store, "2025-W03", as_of_datetime("2025-01-27"))
    assert [p.read_bytes() for p in again.paths[:3]] == written


def test_the_default_namer_is_the_keyphrase_name_and_asks_nothing(fake: FakeModel, build: Build) -> None:
    config, store = build("keyphrases", KEYPHRASES)
    assert fake.prompts == [] and store.query("SELECT count(*) AS n FROM llm_answers") == [{"n": 0}]
    members = store.query("SELECT si.signal_id AS id, i.title FROM signal_items si JOIN items i ON i.id = si.item_id "
                          "ORDER BY i.id")
    for r in rows(store):
        titles = [m["title"] for m in members if m["id"] == r["id"]]
        assert r["title"] == signal_name(json.loads(r["keywords"])["all"], titles) and r["summary"] == ""
    assert not any(line.startswith("names:") for line in run(config, store).lines)
    result = write_digest(config, store, "2025-W03", as_of_datetime("2025-01-20"))
    assert 'class="summary"' not in result.paths[0].read_text(encoding="utf-8")
    assert isinstance(get_namer(config.analysis, store), KeyphraseNamer)


# ------------------------------------------------------------------------------- prompts and answers
def test_the_prompt_is_bounded_and_its_key_is_a_content_hash() -> None:
    titles = [f"ดีอี เตือน ข่าวปลอม เรื่องที่ {k}" for k in range(20)]
    vectors = np.eye(20, dtype=np.float32)
    mean = np.linspace(1.0, 0.0, 20, dtype=np.float32)  # the first title is the most central
    asked = naming_input("signal", 7, {"th": ["ข่าวปลอม", "ดีอี"], "en": ["afnc"]}, titles, ["th"] * 19 + ["en"],
                         vectors, mean, "ข่าวปลอม · ดีอี")
    assert asked.titles == titles[:PROMPT_TITLES] and asked.language == "th"
    prompt = build_prompt(asked)
    assert "Thai keywords: ข่าวปลอม, ดีอี" in prompt and "English keywords: afnc" in prompt
    assert f"{PROMPT_TITLES}. {titles[PROMPT_TITLES - 1]}" in prompt and titles[PROMPT_TITLES] not in prompt
    english = NamingInput("trend", 1, {"en": ["ai"]}, ["AI pilots"], "en", "ai")
    assert "Write both in English." in build_prompt(english) and "Thai keywords: -" in build_prompt(english)
    assert prompt_key("a", prompt) == prompt_key("a", prompt) != prompt_key("b", prompt)
    assert prompt_key("a", prompt) != prompt_key("a", prompt + " ")


def test_answers_are_read_from_json_or_labelled_lines() -> None:
    assert parse_answer('{"name": "ข่าวปลอม", "summary": "ดีอี\\nเตือน"}') == parse_answer(
        "```json\n{\"name\": \"ข่าวปลอม\", \"summary\": \"ดีอี เตือน\"}\n```")
    assert parse_answer('{"name": "ข่าวปลอม", "summary": "ดีอี\\nเตือน"}').summary == "ดีอี เตือน"
    labelled = parse_answer("**Name:** “บัญชีม้า”\nSummary: ตำรวจและธนาคาร\nปิดบัญชีม้ากว่าล้านบัญชี\n")
    assert (labelled.name, labelled.summary) == ("บัญชีม้า", "ตำรวจและธนาคาร ปิดบัญชีม้ากว่าล้านบัญชี")
    assert parse_answer("ชื่อ: ข่าวปลอม\nสรุป: ดีอีเตือนประชาชน").name == "ข่าวปลอม"
    assert parse_answer('{"name": "AI in ministries"}').summary == ""
    for bad, reason in [("", "empty"), ("just prose", "neither JSON"), ('{"name": ""}', "no name"),
                        ('{"name": "' + "x" * 61 + '"}', "61 characters long")]:
        with pytest.raises(ValueError, match=reason):
            parse_answer(bad)


# ------------------------------------------------------------------------------- configuration
def test_config_errors_name_the_field_and_the_fix(make_config: Callable[[str], Config],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as err:
        make_config("analysis:\n  embedder: hashing\n  namer: llm\nsources: []\n")
    assert [p.split("/")[-1] for p in err.value.problems] == [
        "sources.yaml:1: analysis.llm_model: the llm namer needs a model: write llm_model: NAME, a model or alias "
        "that `llm models` lists (a hosted model such as gpt-4o-mini, or an Ollama or GGUF model through its llm "
        "plugin)"]
    with pytest.raises(ConfigError, match=r"sources.yaml:3: analysis\.llm_model: llm_model is only read by the llm "
                                          "namer"):
        make_config("analysis:\n  embedder: hashing\n  llm_model: gpt-4o-mini\nsources: []\n")
    with pytest.raises(ConfigError, match=r"sources.yaml:2: analysis\.namer: .*'keyphrases' or 'llm'"):
        make_config("analysis:\n  namer: gpt\nsources: []\n")
    assert make_config(LLM_CONFIG).analysis.llm_model == MODEL
    assert make_config(KEYPHRASES).analysis.namer == "keyphrases"
    monkeypatch.setitem(sys.modules, "llm", None)  # as if the llm library were not installed
    with pytest.raises(ConfigError) as err:
        make_config(LLM_CONFIG)
    assert [p.split("/")[-1] for p in err.value.problems] == [
        "sources.yaml:3: analysis.namer: the 'llm' namer needs a package that is not installed: "
        "pip install 'scanner[llm]'"]
    with Store.open(None) as store, pytest.raises(MissingDependencyError, match=r"pip install 'scanner\[llm\]'"):
        get_namer(AnalysisConfig.model_construct(namer="llm", llm_model=MODEL), store)
