"""Generate the README's CLI reference from ``--help`` (run by cog; checked by tests/test_docs.py)."""

from __future__ import annotations

import click
from click.testing import CliRunner

from scanner.cli import cli


def commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [prefix]
    for name in sorted(group.commands):
        command = group.commands[name]
        if isinstance(command, click.Group):
            out.extend(commands(command, (*prefix, name)))
        else:
            out.append((*prefix, name))
    return out


def help_markdown() -> str:
    runner = CliRunner()
    parts = []
    for path in commands():
        result = runner.invoke(cli, [*path, "--help"], terminal_width=100)
        title = " ".join(("scanner", *path))
        parts.append(f"#### `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)
