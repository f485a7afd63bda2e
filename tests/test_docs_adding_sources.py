"""Every YAML example in docs/adding-sources.md (commented ones too) is a valid source."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from scanner.config import parse_config

DOC = Path(__file__).resolve().parent.parent / "docs" / "adding-sources.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_doc_has_an_example_per_kind() -> None:
    kinds = re.findall(r"^\s*#?\s*kind: (\w+)", "\n".join(BLOCKS), re.MULTILINE)
    assert set(kinds) == {"rss", "html", "ckan", "file"}
    assert kinds.count("rss") == 6  # one feed and five news-search examples


@pytest.mark.parametrize("block", BLOCKS)
def test_yaml_examples_validate(block: str, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "focus_groups.jsonl").write_text("{}\n", encoding="utf-8")
    uncommented = "\n".join(re.sub(r"^(\s*)# (- |  )", r"\1\2", line) for line in block.splitlines()
                            if not re.match(r"^\s*# [A-Z]", line))
    text = "sources:\n" + textwrap.indent(textwrap.dedent(uncommented), "  ")
    config = parse_config(text, tmp_path / "sources.yaml")
    assert config.sources
