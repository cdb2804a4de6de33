"""Every command explains itself and is documented; exit statuses follow DESIGN.md."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from trendbot.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(run, name):
    result = run(name, "--help")
    assert result.exit_code == 0
    command = cli.commands[name]
    assert command.help and command.help.strip()
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{name} {param.opts} has no help text"
    assert f"trendbot {name}" in README, f"`trendbot {name}` is not documented in README.md"


def test_global_options_have_help(run):
    result = run("--help")
    assert result.exit_code == 0
    for option in ("--config", "--db", "--verbose", "--quiet"):
        assert option in result.stdout


def test_unknown_command_and_option_exit_2(run):
    assert run("frobnicate").exit_code == 2
    assert run("fetch", "--nope").exit_code == 2


def test_unknown_source_name_exits_2_listing_known_ones(project, run):
    project.add_source("lab", kind="feed", url="https://lab.example.org/feed")
    result = run("fetch", "--source", "nope")
    assert result.exit_code == 2
    assert 'no source named "nope" (known: lab)' in result.stderr


def test_empty_search_is_a_usage_error(run):
    result = run("search", "  ")
    assert result.exit_code == 2 and "non-empty QUERY" in result.stderr
