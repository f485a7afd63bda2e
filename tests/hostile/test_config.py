"""Found 7: config bombs. Limit: time, and a clear message with the line instead of a traceback."""

from __future__ import annotations

import logging
import resource
import time
from pathlib import Path

import pytest

from scanner.config import load_config
from scanner.errors import ConfigError
from scanner.schedule import Scheduler
from scanner.store import Store
from tests.hostile import payloads


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    """Limit: 1 s and no growth in memory (before: 27 s and 2.25 GB for 443 bytes)."""
    path = tmp_path / "sources.yaml"
    path.write_text(payloads.alias_bomb(9), encoding="utf-8")
    assert len(path.read_bytes()) < 600
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert time.monotonic() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB
    assert "sources.yaml:2: YAML aliases (*a0) are not allowed" in str(info.value)


def test_aliases_inside_tags_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("x: &t [a, b]\nsources:\n  - id: a\n    kind: file\n    path: .\n    tags: *t\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources.yaml:6: YAML aliases"):
        load_config(path)


def test_yaml_nested_fifty_thousand_deep(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(payloads.deep_yaml(50_000), encoding="utf-8")
    with pytest.raises(ConfigError, match="nested more than 32 levels"):
        load_config(path)


def test_the_schedulers_reload_survives_any_bad_file(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The docs promise a failed reload keeps the previous configuration: even for an error that
    is not a ConfigError (here a RecursionError from deep inside a parser)."""
    path = tmp_path / "sources.yaml"
    path.write_text("sources: []\n", encoding="utf-8")
    store = Store.open(tmp_path / "signals.db")
    sched = Scheduler(load_config(path), store, config_path=path)
    for text in (payloads.alias_bomb(9), payloads.deep_yaml(50_000)):
        path.write_text(text, encoding="utf-8")
        assert sched.reload(reason="test") is False

    import scanner.schedule

    def explode(p: object) -> object:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(scanner.schedule, "load_config", explode)
    with caplog.at_level(logging.ERROR):
        assert sched.reload(reason="SIGHUP") is False
    assert "keeping the previous configuration" in caplog.text and "RecursionError" in caplog.text
    store.close()
