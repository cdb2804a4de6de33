"""The README's claims about the command line, checked against the real command: every `--help`
ends with its examples, `-vv` prints a line per HTTP request, every `--json-logs` line about a
source carries `source`, `search --json` has what `items --json` has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import read_data
from trendbot.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def command_line_section() -> str:
    return README.split("## Command line", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("name", [None, *sorted(cli.commands)])
def test_every_help_ends_with_its_examples(run, name):
    assert "Every command's `--help` explains each\noption and ends with examples." in command_line_section()
    result = run(*([name] if name else []), "--help")
    assert result.exit_code == 0
    text = result.stdout.rstrip()
    options_at, examples_at = text.index("Options:"), text.rindex("Examples:")
    assert options_at < examples_at
    tail = text[examples_at:].splitlines()[1:]
    assert tail and all(line.strip().startswith("trendbot ") for line in tail), text
