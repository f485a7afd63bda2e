"""The README documents every command, and its generated CLI reference is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scanner.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def test_readme_cli_reference_is_current() -> None:
    result = subprocess.run([sys.executable, "-m", "cogapp", "--check", "README.md"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"run `.venv/bin/cog -r README.md`: {result.stdout}{result.stderr}"


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    def walk(group, prefix):  # type: ignore[no-untyped-def]
        for name, command in group.commands.items():
            path = (*prefix, name)
            assert command.help, f"scanner {' '.join(path)} has no help text"
            assert f"#### `scanner {' '.join(path)}`" in readme
            if hasattr(command, "commands"):
                walk(command, path)

    walk(cli, ())
