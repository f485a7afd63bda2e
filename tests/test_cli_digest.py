"""``scanner digest``, ``scanner review`` and ``scanner signals merge|rename`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scanner.cli import cli
from scanner.store import Store
from tests import digest_fixtures as fx


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return fx.build_base_db(tmp_path_factory.mktemp("cli-base"))


@pytest.fixture
def project(base: tuple[Path, dict[str, Any]], tmp_path: Path) -> dict[str, int]:
    fx.write_config(tmp_path)
    fx.copy_db(base[0], tmp_path).close()
    return base[1]["signals"]


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, ["--db", "signals.db", *args], env=env, catch_exceptions=False)


def test_digest_for_a_week(project: dict[str, int], tmp_path: Path) -> None:
    result = run("digest", "--week", "2025-W12", "--as-of", "2025-04-01")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "reports" / "2025-W12.json").read_text(encoding="utf-8"))
    s = data["stats"]
    assert s["items"] == 27
    assert result.output == (f"digest 2025-W12: 27 items, {s['new']} new, {s['weak']} weak, {s['strong']} strong, "
                             f"{s['fading']} fading signals → {tmp_path / 'reports' / '2025-W12.html'}\n")


def test_digest_defaults_to_the_last_complete_week(project: dict[str, int], tmp_path: Path) -> None:
    result = run("digest", "--as-of", "2025-03-26")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("digest 2025-W12: ")
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "2025-W12.html", "2025-W12.json", "2025-W12.md", "feed.xml", "index.html"]


def test_backfill_range(project: dict[str, int], tmp_path: Path) -> None:
    result = run("digest", "--from", "2025-W09", "--to", "2025-W12", "--as-of", "2025-04-01")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == ["digest 2025-W09", "digest 2025-W10", "digest 2025-W11",
                                                          "digest 2025-W12"]
    assert lines[4] == f"wrote 4 digests into {tmp_path / 'reports'}"


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2025-W09"], "Error: --from and --to go together: give both weeks of the back-fill\n"),
    (["--week", "2025-W9"], "Error: '2025-W9' is not an ISO week: write it as YYYY-Www, for example 2025-W07\n"),
    (["--from", "2025-W12", "--to", "2025-W09"], "Error: --from 2025-W12 is after --to 2025-W09: swap them\n"),
    (["--week", "2025-W12", "--as-of", "2025-03-20"],
     "Error: 2025-W12 is not over yet (it ends 2025-03-23T17:00:00+00:00): pick an earlier --week, "
     "or --as-of a date after it\n"),
    (["--email", "--week", "2025-W10", "--as-of", "2025-04-01"],
     "Error: --email needs an e-mail channel: a `kind: email` entry (host, recipients, …) under digest.deliver "
     "in the sources file\n"),
    (["--deliver", "--week", "2025-W10", "--as-of", "2025-04-01"],
     "Error: --deliver needs channels: list them under digest.deliver in the sources file (kind: email or "
     "kind: webhook; see README, 'Deliver')\n"),
])
def test_digest_usage_errors(project: dict[str, int], args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["--db", "signals.db", "digest", *args])
    assert result.exit_code == 2
    assert result.output == message


def test_review_record_list_and_summary(project: dict[str, int]) -> None:
    sid = project["ai"]
    out = run("review", str(sid), "--verdict", "watch", "--note", "ติดตามร่าง พ.ร.บ. AI", "--by", "somchai")
    assert out.exit_code == 0, out.output
    assert out.output == f"recorded watch by somchai on signal {sid}; all verdicts: watch (somchai)\n"
    out = run("review", str(sid), "--verdict", "dismiss", env={"USER": "malee"})
    assert out.output == (f"recorded dismiss by malee on signal {sid}; all verdicts: analysts disagree: "
                          "watch (somchai); dismiss (malee)\n")
    out = run("review", "--list", "--format", "json")
    rows = json.loads(out.output)
    assert [(r["signal_id"], r["verdict"], r["by"], r["note"]) for r in rows] == [
        (sid, "watch", "somchai", "ติดตามร่าง พ.ร.บ. AI"), (sid, "dismiss", "malee", None)]
    assert rows[0]["title"] == "AI ในภาครัฐและเศรษฐกิจ"
    out = run("review", str(sid))
    assert out.output.splitlines()[-1] == "summary: analysts disagree: watch (somchai); dismiss (malee)"


def test_review_usage_errors(project: dict[str, int]) -> None:
    out = CliRunner().invoke(cli, ["--db", "signals.db", "review"])
    assert (out.exit_code, out.output) == (2, "Error: give a SIGNAL_ID (see `scanner signals`), or --list\n")
    out = CliRunner().invoke(cli, ["--db", "signals.db", "review", "999", "--verdict", "keep"])
    assert (out.exit_code, out.output) == (2, "Error: no signal with id 999: list the signals with `scanner signals`\n")
    out = CliRunner().invoke(cli, ["--db", "signals.db", "review", "1", "--verdict", "maybe"])
    assert out.exit_code == 2 and "Invalid value for '--verdict'" in out.output


def test_signals_merge_and_rename(project: dict[str, int], tmp_path: Path) -> None:
    keep, other = project["mule"], project["scam"]
    out = run("signals", "merge", str(keep), str(other))
    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"merged signal {other} into {keep}: ")
    out = run("signals", "rename", str(keep), "Mule accounts and scam gangs")
    assert out.output == f"renamed signal {keep}: “บัญชีม้าและแก๊งคอลเซ็นเตอร์” → “Mule accounts and scam gangs”\n"
    with Store.open(tmp_path / "signals.db") as store:
        rows = store.query("SELECT id, custom_title, status, merged_into FROM signals WHERE id IN (?, ?) ORDER BY id",
                           [keep, other])
    assert rows == [{"id": keep, "custom_title": "Mule accounts and scam gangs", "status": "active",
                     "merged_into": None},
                    {"id": other, "custom_title": None, "status": "merged", "merged_into": keep}]
    out = CliRunner().invoke(cli, ["--db", "signals.db", "signals", "merge", str(keep), str(other)])
    assert out.exit_code == 2 and out.output.startswith(f"Error: signal {other} was already merged into {keep}")
