"""Fixtures of the hostile-input suite: the hostile server and a one-call fetch through the real path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.collect import collect
from scanner.config import Config, load_config
from scanner.models import FetchRun
from scanner.store import Store
from tests.hostile.server import HostileServer

NOW = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def srv() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def config_text(srv: HostileServer, sources: str, settings: str = "") -> str:
    """A sources.yaml whose only allowed internal host is the hostile server's own port."""
    allow = "" if "allow_hosts" in settings else f"  allow_hosts: ['127.0.0.1:{srv.port}']\n"
    head = (f"settings:\n  per_host_delay: 0\n  timeout: 2\n{allow}"
            + textwrap.indent(textwrap.dedent(settings).strip("\n"), "  ") + "\n")
    return head + "sources:\n" + textwrap.indent(textwrap.dedent(sources).strip("\n"), "  ") + "\n"


@pytest.fixture
def fetch_all(tmp_path: Path, srv: HostileServer) -> Iterator[Callable[..., tuple[FetchRun, Store, Config]]]:
    """Write the config, ``collect`` every source as ``scanner fetch --all`` does, return the store."""
    opened: list[Store] = []

    def run(sources: str, settings: str = "") -> tuple[FetchRun, Store, Config]:
        path = tmp_path / "sources.yaml"
        path.write_text(config_text(srv, sources, settings), encoding="utf-8")
        config = load_config(path)
        store = Store.open(tmp_path / "signals.db")
        opened.append(store)
        run = collect(config, store, [s for s in config.sources if s.enabled], now=NOW)
        return run, store, config

    yield run
    for s in opened:
        s.close()
