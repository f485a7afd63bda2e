"""Replaying week by week: an archive gets the signals of a scanner that ran through its weeks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from scanner.analysis.analyse import analyse
from scanner.analysis.replay import archive_weeks, replay, week_moment
from scanner.cli import cli
from scanner.clock import as_of_datetime, iso_week, weeks_between
from scanner.config import Config
from scanner.store import Store
from tests.signal_data import add_items

HASHING = "analysis:\n  embedder: hashing\n  fading_weeks: 3\nsources: []\n"
TZ = "Asia/Bangkok"


def archive(store: Store) -> None:
    """Three matters: two early in 2025, one twenty weeks later (beyond one 12-week window)."""
    add_items(store, [("opendata", "ข้อมูลเปิด ภาครัฐ", d) for d in
                      ("2025-01-06", "2025-01-08", "2025-01-10", "2025-01-14", "2025-01-16")])
    add_items(store, [("fraud", "มิจฉาชีพ บัญชีม้า", d) for d in
                      ("2025-01-13", "2025-01-15", "2025-01-17", "2025-01-21", "2025-01-22")], start=10)
    add_items(store, [("ai", "ปัญญาประดิษฐ์", d) for d in ("2025-04-28", "2025-04-30", "2025-05-02", "2025-05-06")],
              start=20)


def membership(store: Store) -> dict[int, int]:
    return dict(store.db.execute("SELECT item_id, signal_id FROM signal_items"))


def test_replay_gives_an_archive_the_signals_of_weekly_runs(tmp_path: Path,
                                                            make_config: Callable[[str], Config]) -> None:
    config = make_config(HASHING)
    now = as_of_datetime("2025-05-11", TZ)  # Sunday of 2025-W19
    stores = {name: Store.open(tmp_path / f"{name}.db") for name in ("once", "replayed", "lived")}
    for store in stores.values():
        archive(store)
    analyse(config, stores["once"], now, relevance=False)
    results = replay(config, stores["replayed"], "2025-W02", "2025-W19", now, relevance=False)
    for week in weeks_between("2025-W02", "2025-W19"):  # a scanner that ran at the end of every week
        analyse(config, stores["lived"], week_moment(week, now, TZ), relevance=False)

    once, replayed, lived = (membership(s) for s in stores.values())
    assert len(once) == 4  # one window: only the AI items reach a signal
    assert len(replayed) == 14 and replayed == lived  # every matter, the same signal ids as living through it
    assert [r.week for r in results][:3] == ["2025-W02", "2025-W03", "2025-W04"]
    skipped = set(weeks_between("2025-W02", "2025-W19")) - {r.week for r in results}
    assert skipped == {"2025-W16", "2025-W17"}  # their 12-week windows hold no item
    signals = [s.query("SELECT id, title, state FROM signals ORDER BY id") for s in stores.values()]
    assert signals[1] == signals[2] and len(signals[1]) == 3
    for s in stores.values():
        s.close()


def test_a_week_whose_window_is_empty_is_skipped(tmp_path: Path, make_config: Callable[[str], Config]) -> None:
    config = make_config(HASHING)
    with Store.open(tmp_path / "a.db") as store:
        add_items(store, [("ai", "ปัญญาประดิษฐ์", d) for d in ("2025-06-02", "2025-06-04", "2025-06-06")])
        results = replay(config, store, "2025-W01", "2025-W24", as_of_datetime("2025-06-15", TZ), relevance=False)
    assert [r.week for r in results] == ["2025-W23", "2025-W24"]


def test_archive_weeks_only_before_the_first_analysis(tmp_path: Path, make_config: Callable[[str], Config]) -> None:
    config = make_config(HASHING)
    now = as_of_datetime("2025-05-12", TZ)  # Monday of W20
    with Store.open(tmp_path / "a.db") as store:
        assert archive_weeks(config, store, now) is None  # no items
        archive(store)
        assert archive_weeks(config, store, now) == ("2025-W02", "2025-W19")
        analyse(config, store, now, relevance=False)
        assert archive_weeks(config, store, now) is None  # analysed once: runs go on week by week


def archive_config(tmp_path: Path, thaigov: list[dict]) -> Path:
    rows = sorted(thaigov, key=lambda r: r["published"])[:160]
    (tmp_path / "archive.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                            encoding="utf-8")
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - {id: archive, kind: file, path: archive.jsonl, language: th}\n"
                    "analysis:\n  embedder: hashing\n", encoding="utf-8")
    return path


def test_run_once_replays_an_imported_archive_by_itself(tmp_path: Path, thaigov: list[dict]) -> None:
    archive_config(tmp_path, thaigov)
    first = CliRunner().invoke(cli, ["run", "--once", "--as-of", "2025-01-06"])
    assert first.exit_code == 0, first.output
    assert "no earlier analysis: replayed 2024-W" in first.output
    with Store.open(tmp_path / "signals.db") as store:
        runs = store.query("SELECT as_of FROM runs WHERE kind = 'analyse' ORDER BY id")
        weeks = [iso_week(as_of_datetime(r["as_of"][:19], "UTC"), TZ) for r in runs]
        assert len(runs) > 5 and weeks == sorted(weeks) and weeks[-1] == "2025-W02"
        early = store.query("SELECT count(*) AS n FROM signal_items si JOIN items i ON i.id = si.item_id "
                            "WHERE i.published < '2024-10-14'")[0]["n"]
        assert early > 0  # items more than a window before the run are in signals
    again = CliRunner().invoke(cli, ["run", "--once", "--as-of", "2025-01-07"])
    assert again.exit_code == 0 and "replayed" not in again.output


def test_analyse_from_to_on_the_command_line(tmp_path: Path, thaigov: list[dict]) -> None:
    archive_config(tmp_path, thaigov)
    assert CliRunner().invoke(cli, ["fetch", "--all"]).exit_code == 0
    result = CliRunner().invoke(cli, ["analyse", "--from", "2024-W40", "--to", "2024-W43", "--as-of", "2025-01-06"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split()[1] for line in lines[:-1]] == ["2024-W40", "2024-W41", "2024-W42", "2024-W43"]
    assert lines[-1] == "replayed 4 weeks with items, 2024-W40 … 2024-W43"
    for args, message in ((["--from", "2024-W40"], "--from and --to go together"),
                          (["--from", "2024-W43", "--to", "2024-W40"], "swap them"),
                          (["--from", "2024-W54", "--to", "2025-W01"], "has no week 54")):
        bad = CliRunner().invoke(cli, ["analyse", *args])
        assert bad.exit_code == 2 and message in bad.output, bad.output
