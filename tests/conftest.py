"""Shared fixtures: temp paths, a fresh database, config writing, real local HTTP servers."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from scanner.config import Config, load_config
from scanner.store import Store

if TYPE_CHECKING:
    from tests.test_digest_email import Inbox
    from tests.web_support import Workspace

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
THAIGOV = ROOT / "demo" / "data" / "thaigov_sample.jsonl"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own folder with no scanner environment variables."""
    monkeypatch.chdir(tmp_path)
    for var in ("SCANNER_CONFIG", "SCANNER_DB"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "signals.db")
    yield s
    s.close()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write a sources.yaml (dedented) into the test folder and return its path."""

    def write(text: str, name: str = "sources.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_config(write_config: Callable[[str], Path]) -> Callable[[str], Config]:
    def make(text: str) -> Config:
        return load_config(write_config(text))

    return make


@pytest.fixture(scope="session")
def thaigov() -> list[dict[str, Any]]:
    """The 700 real Thai government press releases bundled for the demo."""
    with THAIGOV.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    return ("127.0.0.1", 0)


@pytest.fixture(scope="session")
def web_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digest fixtures' database of real Thai releases, built once for the workspace tests
    (each test works on its own copy, ``make_workspace``)."""
    from tests import digest_fixtures as fx

    path, _ = fx.build_base_db(tmp_path_factory.mktemp("web-base"))
    return Path(path)


@pytest.fixture
def ws(web_base: Path, tmp_path: Path) -> Iterator[Workspace]:
    """A workspace over a copy of ``web_base``, one account per role."""
    from tests.web_support import make_workspace

    w = make_workspace(web_base, tmp_path)
    yield w
    w.close()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, and its port."""
    from aiosmtpd.controller import Controller

    from tests.test_digest_email import Inbox, free_port

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()
