from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.config import load_config, parse_interval, parse_size
from scanner.errors import ConfigError


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    return exc.value.problems


def test_minimal_config_and_defaults(write_config: Callable[[str], Path]) -> None:
    path = write_config(
        """
        sources:
          - id: dga-news
            kind: rss
            url: https://www.dga.or.th/feed/
        """
    )
    config = load_config(path)
    assert config.settings.db == "signals.db"
    assert config.db_path == path.parent / "signals.db"
    assert config.settings.timezone == "Asia/Bangkok"
    source = config.sources[0]
    assert source.language == "auto" and source.enabled is True
    assert source.every_seconds(config.settings) == 6 * 3600


def test_five_mistakes_reported_at_once_with_lines(write_config: Callable[[str], Path]) -> None:
    path = write_config(
        """
        settings:
          timeout: 10
        sources:
          - id: ok-one
            kind: rss
            url: https://example.org/feed
          - id: ok-one
            kind: rss
            url: https://example.org/other
          - id: bad-url
            kind: rss
            url: ftp://example.org/feed
          - id: bad-every
            kind: rss
            url: https://example.org/feed2
            every: 6x
          - id: bad-kind
            kind: atom
            url: https://example.org/feed3
          - id: typo
            kind: rss
            url: https://example.org/feed4
            langauge: th
        """
    )
    problems = problems_of(path)
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert f"{path}:12: sources[2].url: 'ftp://example.org/feed' is not a valid http(s) URL" in text
    assert f"{path}:16: sources[3].every: '6x' is not an interval" in text
    assert f"{path}:18: sources[4].kind: unknown kind 'atom'" in text
    assert f"{path}:23: sources[5].langauge: unknown field" in text
    assert f"{path}:7: sources[1].id: duplicate source id 'ok-one' (also sources[0] on line 4)" in text


def test_missing_file_source_path_is_an_error(write_config: Callable[[str], Path]) -> None:
    path = write_config(
        """
        sources:
          - id: notes
            kind: file
            path: notes/focus.jsonl
        """
    )
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:4: sources[0].path: 'notes/focus.jsonl' does not exist")


def test_the_built_in_submissions_source_keeps_its_id(write_config: Callable[[str], Path]) -> None:
    path = write_config(
        """
        sources:
          - id: dga
            kind: rss
            url: https://www.dga.or.th/feed/
          - id: submissions
            kind: rss
            url: https://example.org/feed
        """
    )
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:5: sources[1].id: 'submissions' is the built-in source of the workspace's "
                              "submissions")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ":1: the file is empty"),
        ("sources:\n\t- id: x\n", ":2: a tab character"),
        ("sources: [\n", "not valid YAML"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("sources:\n  - id: a\n    id: b\n    kind: rss\n    url: http://x.org\n",
         ":3: sources[0].id: key 'id' appears twice"),
    ],
)
def test_malformed_files(write_config: Callable[[str], Path], text: str, expected: str) -> None:
    path = write_config(text)
    assert expected in "\n".join(problems_of(path))


def test_intervals_and_sizes() -> None:
    assert parse_interval("5s") == 5
    assert parse_interval("1.5h") == 5400
    assert parse_interval("1w") == 604800
    for bad in ("6", "h", "0s", "-1h", "6 hours"):
        with pytest.raises(ValueError):
            parse_interval(bad)
    assert parse_size("20MB") == 20_000_000
    assert parse_size(1024) == 1024
    with pytest.raises(ValueError):
        parse_size("lots")


def test_retention_may_not_reach_into_the_analysis_window(write_config: Callable[[str], Path]) -> None:
    path = write_config("settings:\n  keep_bodies: 2\nanalysis:\n  window_weeks: 12\nsources: []\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.problems == [f"{path}:2: settings.keep_bodies: 2 months is shorter than the analysis window "
                                  "(12 weeks): items still analysed would lose their text; keep at least 3 months"]
    assert load_config(write_config("settings:\n  keep_bodies: 3\nsources: []\n")).settings.keep_bodies == 3
