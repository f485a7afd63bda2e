"""Delivering the digest where people read (``digest.deliver``): Teams, Slack and JSON webhooks on a
local recording server, e-mail on a local SMTP server, failures retried without sending twice,
secrets kept out of every output, and config mistakes named with their field."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from scanner.cli import cli
from scanner.config import Config, load_config
from scanner.digest import pending_deliveries, write_digest, write_due_digest
from scanner.digest.messages import (
    DigestSummary,
    SummarySignal,
    SummaryTrend,
    slack_message,
    summarise,
    teams_message,
)
from scanner.errors import ConfigError
from scanner.schedule import DELIVERY_RETRY_FIRST, ScheduleOptions, Scheduler
from scanner.status import failed_deliveries
from scanner.store import Store
from scanner.store.deliveries import fetch_deliveries
from tests import digest_fixtures as fx
from tests.test_digest_email import Inbox, free_port

NOW = datetime.fromisoformat("2025-03-24T02:00:00+00:00")  # Monday 09:00 in Bangkok, after 2025-W12
WEEK = "2025-W12"
PUBLIC = "https://lab.example.org/scan/"
SECRET = "sig=Zm9vYmFyLXNlY3JldC10b2tlbg"  # what a Teams Workflows URL carries


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return fx.build_base_db(tmp_path_factory.mktemp("deliver-base"), until=WEEK)


@pytest.fixture
def store(base: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[Store]:
    s = fx.copy_db(base[0], tmp_path)
    yield s
    s.close()


@pytest.fixture
def hooks(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    """The recording server; ``SCANNER_TEAMS_URL`` holds the secret Teams address."""
    httpserver.no_handler_status_code = 404
    monkeypatch.setenv("SCANNER_TEAMS_URL", httpserver.url_for(f"/workflows/abc/triggers/manual/run?{SECRET}"))
    return httpserver


def write_config(folder: Path, deliver: str, digest_extra: str = f"  public_url: {PUBLIC}\n") -> Config:
    """The digest fixtures' sources file, with 127.0.0.1 allowed and the given ``deliver:`` entries."""
    (folder / "survey.jsonl").write_text("", encoding="utf-8")
    path = folder / "sources.yaml"
    text = fx.CONFIG_YAML.lstrip("\n").replace("settings:\n", "settings:\n  allow_hosts: ['127.0.0.1']\n", 1)
    path.write_text(text + "digest:\n" + digest_extra + "  deliver:\n" + deliver, encoding="utf-8")
    return load_config(path)


def webhook(fmt: str, server: HTTPServer, path: str, extra: str = "") -> str:
    return f"    - kind: webhook\n      format: {fmt}\n      url: {server.url_for(path)}\n{extra}"


TEAMS = "    - kind: webhook\n      format: teams\n      url_env: SCANNER_TEAMS_URL\n"


def email(port: int) -> str:
    return (f"    - kind: email\n      host: 127.0.0.1\n      port: {port}\n      starttls: false\n"
            "      sender: scanner@lab.example.org\n      recipients: [analyst@lab.example.org]\n")


def received(server: HTTPServer, path: str) -> list[Any]:
    return [json.loads(r.get_data(as_text=True)) for r, _ in server.log if r.path == path]


def digest_json(tmp_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / "reports" / f"{WEEK}.json").read_text(encoding="utf-8"))
    return data


def all_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------------------- payloads
def test_teams_slack_and_json_receive_the_headline_top_signals_and_links(store: Store, tmp_path: Path,
                                                                        hooks: HTTPServer) -> None:
    for path in ("/workflows/abc/triggers/manual/run", "/slack", "/json"):
        hooks.expect_request(path, method="POST").respond_with_data("", status=202)
    config = write_config(tmp_path, TEAMS + webhook("slack", hooks, "/slack") + webhook("json", hooks, "/json"))
    result = write_due_digest(config, store, NOW)
    assert result is not None and result.exit_code == 0
    assert result.lines[1:] == [f"digest {WEEK}: posted to teams (Teams card)",
                                f"digest {WEEK}: posted to slack (Slack message)",
                                f"digest {WEEK}: posted to json (JSON summary)"]
    data = digest_json(tmp_path)
    assert data["top"], "the fixture week has signals to look at first"
    page = f"{PUBLIC}{WEEK}.html"
    top_links = [f"{page}#{t['anchor']}" for t in data["top"]]

    for r, _ in hooks.log:
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    (teams,) = received(hooks, "/workflows/abc/triggers/manual/run")
    assert teams["type"] == "message"
    (attachment,) = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    texts = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    assert texts[0] == f"Horizon scan {WEEK}: {data['period']}"
    assert data["headline"][0] in texts  # Thai and English as written
    containers = [b for b in card["body"] if b["type"] == "Container"]
    titles = [c["items"][0]["text"] for c in containers]
    assert titles[:len(data["top"])] == [f"{n}. {t['title']}" for n, t in enumerate(data["top"], start=1)]
    assert [c["selectAction"]["url"] for c in containers[:len(data["top"])]] == top_links
    assert all(c["selectAction"]["type"] == "Action.OpenUrl" for c in containers)
    trends = containers[len(data["top"]):]
    assert [c["items"][0]["text"] for c in trends] == [t["name"] for t in data["trends"][:3]]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Read the full digest", "url": page}]

    (slack,) = received(hooks, "/slack")
    assert set(slack) == {"text", "blocks"}
    assert slack["text"].startswith(f"Horizon scan {WEEK}: ")
    kinds = [b["type"] for b in slack["blocks"]]
    assert kinds[:2] == ["header", "context"] and kinds[-1] == "actions"
    assert slack["blocks"][0]["text"] == {"type": "plain_text", "text": f"Horizon scan {WEEK}: {data['period']}",
                                          "emoji": False}
    sections = [b["text"]["text"] for b in slack["blocks"] if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in sections)
    first = next(s for s in sections if s.startswith("*Look at these first*"))
    for link, t in zip(top_links, data["top"], strict=True):
        assert f"<{link}|" in first and t["title"].replace("&", "&amp;") in first
    assert slack["blocks"][-1]["elements"][0]["url"] == page

    (summary,) = received(hooks, "/json")
    assert summary["format"] == "scanner.digest.summary/1"
    assert summary["week"] == WEEK and summary["headline"] == data["headline"]
    assert [t["id"] for t in summary["top"]] == [t["id"] for t in data["top"]]
    assert [t["url"] for t in summary["top"]] == top_links
    assert all(t["item_url"].startswith("https://") for t in summary["top"])
    assert summary["url"] == page and summary["json_url"] == f"{PUBLIC}{WEEK}.json"
    assert summary["stats"] == data["stats"]

    rows = fetch_deliveries(store, WEEK)
    assert {n: (r.status, r.attempts) for n, r in rows.items()} == {"teams": ("ok", 1), "slack": ("ok", 1),
                                                                    "json": ("ok", 1)}
    assert write_due_digest(config, store, NOW) is None  # delivered: nothing is sent twice
    assert len(hooks.log) == 3


def test_without_public_url_the_message_says_where_the_digest_is(store: Store, tmp_path: Path,
                                                                 hooks: HTTPServer) -> None:
    hooks.expect_request("/slack", method="POST").respond_with_data("ok")
    config = write_config(tmp_path, webhook("slack", hooks, "/slack"), digest_extra="")
    write_due_digest(config, store, NOW)
    (slack,) = received(hooks, "/slack")
    assert slack["blocks"][-1]["type"] == "context"
    assert f"reports/{WEEK}.html on the scanner's machine" in slack["blocks"][-1]["elements"][0]["text"]
    assert "actions" not in [b["type"] for b in slack["blocks"]]
    assert PUBLIC not in all_text(slack)


# --------------------------------------------------------------------------------------- failures
def test_a_failing_channel_is_retried_and_never_stops_the_others(store: Store, tmp_path: Path, hooks: HTTPServer,
                                                                 smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    hooks.expect_oneshot_request("/workflows/abc/triggers/manual/run", method="POST").respond_with_data(
        "busy", status=500)  # the first answer; the retry (with back-off) gets the next handler
    hooks.expect_request("/workflows/abc/triggers/manual/run", method="POST").respond_with_data("", status=202)
    hooks.expect_request("/slack", method="POST").respond_with_data("invalid_blocks", status=500)
    hooks.expect_request("/json", method="POST").respond_with_data("", status=204)
    deliver = (webhook("slack", hooks, "/slack", "      retries: 1\n") + TEAMS + email(port)
               + webhook("json", hooks, "/json"))
    config = write_config(tmp_path, deliver)
    result = write_due_digest(config, store, NOW)
    assert result is not None and result.exit_code == 1 and result.delivery_failed
    assert (tmp_path / "reports" / f"{WEEK}.html").exists()
    assert result.lines[1:] == [
        f"digest {WEEK}: slack FAILED: webhook: HTTP 500 INTERNAL SERVER ERROR: invalid_blocks",
        f"digest {WEEK}: posted to teams (Teams card)",
        f"digest {WEEK}: e-mailed to 1 recipient(s)",
        f"digest {WEEK}: posted to json (JSON summary)"]
    assert len(received(hooks, "/slack")) == 2  # the first try and its one retry
    assert len(received(hooks, "/workflows/abc/triggers/manual/run")) == 2  # 500, then 202 on the retry
    assert len(inbox.messages) == 1 and len(received(hooks, "/json")) == 1
    rows = fetch_deliveries(store, WEEK)
    assert rows["slack"].status == "failed" and rows["slack"].error == "webhook: HTTP 500 INTERNAL SERVER ERROR: " \
                                                                       "invalid_blocks"
    assert {n: r.status for n, r in rows.items() if n != "slack"} == {"teams": "ok", "email": "ok", "json": "ok"}
    assert pending_deliveries(config, store, NOW) == ["slack"]
    assert [r.channel for r in failed_deliveries(config, store, NOW)] == ["slack"]  # `status --deliveries`: 1

    # Still failing on the next run: tried again, the others are left alone.
    again = write_due_digest(config, store, NOW + timedelta(hours=1))
    assert again is not None and [d.channel for d in again.deliveries] == ["slack"] and again.exit_code == 1
    assert fetch_deliveries(store, WEEK)["slack"].attempts == 2

    # Slack recovers: the run after that delivers it, and only it.
    hooks.clear_all_handlers()
    hooks.expect_request("/slack", method="POST").respond_with_data("ok")
    last = write_due_digest(config, store, NOW + timedelta(hours=2))
    assert last is not None and last.exit_code == 0
    assert last.lines[1:] == [f"digest {WEEK}: posted to slack (Slack message)"]
    assert failed_deliveries(config, store, NOW + timedelta(hours=2)) == []  # `status --deliveries`: 0 again
    assert len(received(hooks, "/slack")) == 5
    assert len(received(hooks, "/workflows/abc/triggers/manual/run")) == 2
    assert len(inbox.messages) == 1 and len(received(hooks, "/json")) == 1
    assert write_due_digest(config, store, NOW + timedelta(hours=3)) is None
    # The files of the week were rendered from its record each time: the same as first written.
    assert json.loads(again.paths[2].read_text(encoding="utf-8"))["week"] == WEEK


def test_a_channel_that_cannot_connect_fails_alone(store: Store, tmp_path: Path, hooks: HTTPServer) -> None:
    hooks.expect_request("/json", method="POST").respond_with_data("", status=200)
    dead = f"http://127.0.0.1:{free_port()}/hook"
    config = write_config(tmp_path, f"    - kind: webhook\n      format: json\n      name: archive\n      url: {dead}\n"
                          "      retries: 0\n" + webhook("json", hooks, "/json"))
    result = write_due_digest(config, store, NOW)
    assert result is not None
    assert result.lines[1] == f"digest {WEEK}: archive FAILED: webhook: cannot connect: connection refused"
    assert result.lines[2] == f"digest {WEEK}: posted to json (JSON summary)"


def test_an_internal_address_is_refused_unless_allowed(store: Store, tmp_path: Path, hooks: HTTPServer) -> None:
    config = write_config(tmp_path, webhook("json", hooks, "/json"))
    config.settings.allow_hosts = []
    result = write_due_digest(config, store, NOW)
    assert result is not None and result.exit_code == 1
    assert "an internal address" in result.lines[1] and "settings.allow_hosts" in result.lines[1]
    assert hooks.log == []


# ---------------------------------------------------------------------------------------- secrets
def test_the_url_env_secret_never_appears_in_logs_output_status_or_the_database(
        store: Store, tmp_path: Path, hooks: HTTPServer, caplog: pytest.LogCaptureFixture) -> None:
    hooks.expect_request("/workflows/abc/triggers/manual/run", method="POST").respond_with_data(
        f"echo {SECRET}", status=503)  # a server that even repeats the secret in its error page
    config = write_config(tmp_path, TEAMS.rstrip("\n") + "\n      retries: 1\n")
    store.close()
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    args = ["--config", str(config.path), "--db", str(tmp_path / "signals.db")]
    out = runner.invoke(cli, [*args, "-vv", "digest", "--week", WEEK, "--deliver", "--as-of", "2025-04-01"])
    assert out.exit_code == 1, out.output
    assert f"digest {WEEK}: teams FAILED: webhook: HTTP 503 SERVICE UNAVAILABLE: echo …" in out.output
    assert len(received(hooks, "/workflows/abc/triggers/manual/run")) == 2
    status = runner.invoke(cli, [*args, "status"])
    assert status.exit_code == 0, status.output
    assert f"  {WEEK}  teams  FAILED  1 attempt, last " in status.output
    assert "webhook: HTTP 503 SERVICE UNAVAILABLE" in status.output and "tried again on the next run" in status.output
    log = runner.invoke(cli, [*args, "status", "--deliveries", "--format", "json"])  # for monitoring
    assert log.exit_code == 0, log.output  # today the run owes a later week, not 2025-W12: nothing to retry
    (row,) = json.loads(log.output)
    assert (row["week"], row["channel"], row["status"], row["attempts"]) == (WEEK, "teams", "failed", 1)
    assert row["error"].startswith("webhook: HTTP 503 SERVICE UNAVAILABLE")
    lines = runner.invoke(cli, [*args, "status", "--deliveries"])
    assert lines.exit_code == 0 and f"  {WEEK}  teams  FAILED  1 attempt, last " in lines.output
    assert runner.invoke(cli, [*args, "status", "--deliveries", "--scheduler"]).exit_code == 2
    ours = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records if not r.name.startswith("werkzeug"))
    assert "urllib3.connectionpool" in ours and '"POST …' in ours  # urllib3's debug lines were captured …
    conn = sqlite3.connect(tmp_path / "signals.db")
    dump = "\n".join(conn.iterdump())
    conn.close()
    for text in (out.output, status.output, log.output, ours, dump):  # (werkzeug's: the test server's own log)
        assert SECRET not in text and "Zm9vYmFy" not in text  # … without the secret


def test_a_missing_url_env_variable_says_what_to_set(store: Store, tmp_path: Path, hooks: HTTPServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCANNER_TEAMS_URL")
    config = write_config(tmp_path, TEAMS)
    result = write_due_digest(config, store, NOW)
    assert result is not None and result.lines[1] == (
        f"digest {WEEK}: teams FAILED: channel 'teams': url_env names 'SCANNER_TEAMS_URL' but that environment "
        "variable is not set (or empty): export SCANNER_TEAMS_URL='https://…' where the scanner runs")


# ------------------------------------------------------------------------------------ the command
def test_digest_deliver_sends_the_week_again_and_email_still_works(store: Store, tmp_path: Path, hooks: HTTPServer,
                                                                  smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    hooks.expect_request("/json", method="POST").respond_with_data("", status=200)
    config = write_config(tmp_path, webhook("json", hooks, "/json") + email(port))
    store.close()
    args = ["--config", str(config.path), "--db", str(tmp_path / "signals.db"), "digest", "--week", WEEK,
            "--as-of", "2025-04-01"]
    plain = CliRunner().invoke(cli, args)
    assert plain.exit_code == 0 and hooks.log == [] and inbox.messages == []
    mail = CliRunner().invoke(cli, [*args, "--email"])
    assert mail.exit_code == 0 and mail.output.splitlines()[1:] == [f"digest {WEEK}: e-mailed to 1 recipient(s)"]
    assert hooks.log == [] and len(inbox.messages) == 1
    for n in (1, 2):  # --deliver: every channel, even one that delivered the week before
        out = CliRunner().invoke(cli, [*args, "--deliver"])
        assert out.exit_code == 0, out.output
        assert out.output.splitlines()[1:] == [f"digest {WEEK}: posted to json (JSON summary)",
                                               f"digest {WEEK}: e-mailed to 1 recipient(s)"]
        assert len(received(hooks, "/json")) == n and len(inbox.messages) == n + 1
    back = CliRunner().invoke(cli, [*args[:-4], "--from", "2025-W11", "--to", WEEK, "--as-of", "2025-04-01",
                                    "--deliver"])
    assert back.exit_code == 2 and "--deliver sends one week" in back.output


def test_the_old_digest_email_section_is_an_email_channel(store: Store, tmp_path: Path, hooks: HTTPServer,
                                                          smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    hooks.expect_request("/json", method="POST").respond_with_data("", status=200)
    old = email(port).replace("    - kind: email\n", "").replace("      ", "    ")
    config = write_config(tmp_path, webhook("json", hooks, "/json") + webhook("json", hooks, "/json"),
                          digest_extra="  email:\n" + old)
    assert [n for n, _ in config.digest.channels] == ["email", "json", "json-2"]
    result = write_due_digest(config, store, NOW)
    assert result is not None and result.emailed and len(inbox.messages) == 1
    assert len(received(hooks, "/json")) == 2
    assert store.query("SELECT emailed_at FROM digests")[0]["emailed_at"] == "2025-03-24T02:00:00+00:00"


# -------------------------------------------------------------------------------------- scheduler
def test_the_scheduler_tries_a_failed_delivery_again_later(store: Store, tmp_path: Path, hooks: HTTPServer) -> None:
    hooks.expect_request("/slack", method="POST").respond_with_data("", status=500)
    config = write_config(tmp_path, webhook("slack", hooks, "/slack", "      retries: 0\n"))
    clock = [NOW]
    sched = Scheduler(config, store, ScheduleOptions(jitter=False, catch_up=False), clock=lambda: clock[0])
    sched._sched.start(paused=True)  # jobs are planned but only run when the test calls them
    sched._digest_job()
    job = sched._sched.get_job("deliver")
    assert job is not None and job.trigger.run_date == NOW + timedelta(seconds=DELIVERY_RETRY_FIRST)
    assert len(received(hooks, "/slack")) == 1
    hooks.clear_all_handlers()
    hooks.expect_request("/slack", method="POST").respond_with_data("ok")
    clock[0] = NOW + timedelta(minutes=5)
    sched._deliver_job()
    assert len(received(hooks, "/slack")) == 2
    assert fetch_deliveries(store, WEEK)["slack"].status == "ok"
    assert pending_deliveries(config, store, clock[0]) == []
    sched._sched.shutdown(wait=False)


# ------------------------------------------------------------------------------ escaping and limits
def summary_with(title: str, item_url: str | None, why: str = "rare, rising") -> DigestSummary:
    sig = SummarySignal(id=7, title=title, state="weak", state_label="Weak signal", why=why, url=None,
                        item_title=title, item_url=item_url)
    return DigestSummary(week=WEEK, period="17–23 Mar 2025", timezone="Asia/Bangkok", headline=["<b>R&D</b> & more"],
                         stats={"items": 1, "relevant": 1, "analysed": True, "sources": 1, "source_kinds": ["rss"],
                                "signals_tracked": 1, "new": 0, "weak": 1, "strong": 0, "fading": 0,
                                "established": 0, "latent": 0},
                         top=[sig], trends=[], trends_more=0, url=None, json_url=None)


def test_slack_text_is_escaped_and_only_http_links_are_links() -> None:
    s = summary_with("บัญชีม้า <!channel> & <https://evil.example|click>", "javascript:alert(1)")
    msg = slack_message(s)
    text = all_text(msg)
    assert "<!channel>" not in text and "<https://evil.example" not in text
    assert "บัญชีม้า &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
    assert "javascript:" not in text
    assert msg["blocks"][2]["text"]["text"] == "&lt;b&gt;R&amp;D&lt;/b&gt; &amp; more"
    linked = slack_message(summary_with("a|b", "https://example.org/a|b?x=<1>"))
    assert "<https://example.org/a%7Cb?x=%3C1%3E|a|b>" in all_text(linked)


def test_teams_titles_cannot_become_links_and_javascript_is_not_opened() -> None:
    card = teams_message(summary_with("ดูที่ [ThaID](https://evil.example)", "javascript:alert(1)"))
    content = card["attachments"][0]["content"]
    text = all_text(content)
    assert "](https://evil.example)" not in text and "]\u200b(https://evil.example)" in text
    assert "javascript:" not in text
    assert "selectAction" not in content["body"][4] and "actions" not in content


def test_trends_and_representative_items_are_linked_in_both_formats() -> None:
    s = summary_with("บัญชีม้า [ด่วน]", "https://www.thaigov.go.th/news/(1) ข่าว")
    s.url = f"{PUBLIC}{WEEK}.html"
    s.trends = [SummaryTrend(id=3, name="ข่าวปลอมและมิจฉาชีพ <ออนไลน์>", state="strong", state_label="Strong",
                             why="rising", items_week=9, items_previous=4, url=f"{PUBLIC}{WEEK}.html#trend-3")]
    body = teams_message(s)["attachments"][0]["content"]["body"]
    example = body[-3]["items"][2]["text"]
    assert example == f"e.g. [บัญชีม้า (ด่วน)](https://www.thaigov.go.th/news/%281%29%20{quote('ข่าว')})"
    trend = body[-1]
    assert trend["items"][0]["text"] == "ข่าวปลอมและมิจฉาชีพ <ออนไลน์>"
    assert trend["items"][1]["text"] == "Strong, 9 items this week (4 the week before): rising"
    assert trend["selectAction"]["url"] == f"{PUBLIC}{WEEK}.html#trend-3"
    sections = [b["text"]["text"] for b in slack_message(s)["blocks"] if b["type"] == "section"]
    assert sections[-1] == (f"*Trends*\n• *<{PUBLIC}{WEEK}.html#trend-3|ข่าวปลอมและมิจฉาชีพ &lt;ออนไลน์&gt;>*: Strong, "
                            "9 items this week (4 the week before): rising")
    assert "e.g. <https://www.thaigov.go.th/news/(1)%20ข่าว|บัญชีม้า [ด่วน]>" in sections[-2]


def test_long_text_is_cut_to_the_formats_limits(tmp_path: Path, store: Store) -> None:
    config = write_config(tmp_path, "    - kind: webhook\n      format: json\n      url: https://example.org/h\n")
    digest = write_digest(config, store, WEEK, NOW).digest
    digest.headline = ["ข่าว " * 2000]
    digest.top[0].title = "ยาว" * 500
    s = summarise(digest, PUBLIC)
    assert len(s.headline[0]) <= 600 and s.headline[0].endswith("…")
    assert len(s.top[0].title) <= 200
    assert all(len(b["text"]["text"]) <= 3000 for b in slack_message(s)["blocks"] if b["type"] == "section")


# ----------------------------------------------------------------------------------------- config
def problems(tmp_path: Path, deliver: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        write_config(tmp_path, deliver)
    return exc.value.problems


def test_config_mistakes_name_the_file_line_and_field(tmp_path: Path) -> None:
    deliver = (
        "    - kind: webhook\n"                                                        # [0] line 26
        "      format: teams\n"
        "      url_env: https://prod-1.westus.logic.azure.com/workflows/x?sig=LEAKED\n"
        "    - kind: webhook\n"                                                        # [1] line 29
        "      format: slak\n"
        "      url: https://hooks.slack.com/services/T000/B000/LEAKEDTOO\n"
        "    - kind: webhok\n"                                                         # [2] line 32
        "    - kind: webhook\n"                                                        # [3] line 33
        "      format: json\n"
        "    - kind: email\n"                                                          # [4] line 35
        "      host: smtp.lab.example.org\n"
        "      recipients: [a@lab.example.org]\n"
        "      colour: red\n"
        "    - kind: webhook\n"                                                        # [5] line 39
        "      format: json\n"
        "      url: ftp://example.org/hook\n"
        "      name: Lab Teams\n"
        "    - format: json\n"                                                         # [6] line 43
    )
    found = problems(tmp_path, deliver)
    f = tmp_path / "sources.yaml"
    assert found == [
        f"{f}:28: digest.deliver[0].url_env: must be the name of an environment variable (letters, digits and _, "
        "for example SCANNER_TEAMS_WEBHOOK), not the address: export SCANNER_TEAMS_WEBHOOK='https://…' where the "
        "scanner runs and write url_env: SCANNER_TEAMS_WEBHOOK",
        f"{f}:30: digest.deliver[1].format: Input should be 'teams', 'slack' or 'json' (got 'slak')",
        f"{f}:31: digest.deliver[1].url: this webhook address carries its own secret (a Slack or Teams/Power "
        "Automate webhook, or a sig=/token=/key= parameter): anyone who reads sources.yaml could post to the "
        "channel. Put it in an environment variable and write url_env: NAME_OF_THE_VARIABLE instead",
        f"{f}:32: digest.deliver[2].kind: unknown channel kind 'webhok': use one of email, webhook",
        f"{f}:33: digest.deliver[3]: a webhook needs exactly one of url (an address without secrets) or url_env "
        "(the name of an environment variable holding the address)",
        f"{f}:38: digest.deliver[4].colour: unknown field: check the spelling, or remove it (see `scanner sources "
        "schema` for the allowed fields)",
        f"{f}:41: digest.deliver[5].url: 'ftp://example.org/hook' is not a valid http(s) URL: it must start with "
        "http:// or https://",
        f"{f}:42: digest.deliver[5].name: 'Lab Teams' is not a valid channel name: use lower-case letters, digits, "
        "'-' and '_' (for example teams-lab)",
        f"{f}:43: digest.deliver[6]: required field 'kind' is missing: set it to one of email, webhook",
    ]
    assert "LEAKED" not in "\n".join(found)


def test_two_channels_with_one_name_and_two_site_addresses_are_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, "    - {kind: webhook, format: json, url: 'https://a.example.org/', name: lab}\n"
                               "    - {kind: webhook, format: slack, url: 'https://b.example.org/', name: lab}\n")
    assert found == [f"{tmp_path / 'sources.yaml'}:25: digest.deliver: channel name 'lab' is used twice: give each "
                     "channel its own name"]
    with pytest.raises(ConfigError) as exc:
        write_config(tmp_path, "    - {kind: webhook, format: json, url: 'https://a.example.org/'}\n",
                     digest_extra=f"  public_url: {PUBLIC}\n  base_url: https://elsewhere.example.org/\n")
    assert exc.value.problems == [f"{tmp_path / 'sources.yaml'}:24: digest.public_url: public_url and base_url name "
                                  "the same thing (where reports/ is published) but differ: keep one"]


def test_public_url_makes_the_feed_links_absolute_as_base_url_does(store: Store, tmp_path: Path) -> None:
    config = write_config(tmp_path, "    - {kind: webhook, format: json, url: 'https://a.example.org/'}\n")
    assert config.digest.site_url == PUBLIC
    write_digest(config, store, WEEK, NOW)
    assert f'href="{PUBLIC}{WEEK}.html"' in (tmp_path / "reports" / "feed.xml").read_text(encoding="utf-8")
