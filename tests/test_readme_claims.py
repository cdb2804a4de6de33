"""The README's claims about the command line, checked against the real command: every `--help`
ends with its examples, `-vv` prints a line per HTTP request, every `--json-logs` line about a
source carries `source`, `search --json` has what `items --json` has."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import read_data
from trendbot.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def command_line_section() -> str:
    """The section's text with its line breaks as spaces, to find a sentence in it."""
    return " ".join(README.split("## Command line", 1)[1].split("\n## ", 1)[0].split())


@pytest.mark.parametrize("name", [None, *sorted(cli.commands)])
def test_every_help_ends_with_its_examples(run, name):
    assert "Every command's `--help` explains each option and ends with examples." in command_line_section()
    result = run(*([name] if name else []), "--help")
    assert result.exit_code == 0
    text = result.stdout.rstrip()
    options_at, examples_at = text.index("Options:"), text.rindex("Examples:")
    assert options_at < examples_at
    tail = text[examples_at:].splitlines()[1:]
    assert tail and all(line.strip().startswith("trendbot ") for line in tail), text


def test_vv_prints_one_line_per_request_without_secrets(project, run, httpserver):
    assert "`-vv` the HTTP requests, one line each (`trendbot: GET " in command_line_section()
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


def test_json_logs_lines_about_a_source_carry_it_and_notes_are_diagnostics(project, run, httpserver):
    assert ("`--json-logs` makes every stderr line a JSON object (`time`, `level`, `message`, and `source` where "
            "there is one: every line about a source") in command_line_section()
    # Reddit: one subreddit fails (a note), the other is read; a feed that fails outright
    httpserver.expect_request("/rd/r/gone/top.json").respond_with_data("nope", status=404)
    httpserver.expect_request("/rd/r/gone/top/.rss").respond_with_data("nope", status=404)
    httpserver.expect_request("/rd/r/LocalLLaMA/top.json").respond_with_data(
        read_data("reddit/top_localllama_2026-04-25.json"), content_type="application/json")
    httpserver.expect_request("/down.xml").respond_with_data("down", status=500)
    project.add_source("reddit", kind="reddit", base_url=httpserver.url_for("/rd"), subreddits=["gone", "LocalLLaMA"])
    project.add_source("down", kind="feed", url=httpserver.url_for("/down.xml"))
    result = run("--json-logs", "-vv", "fetch")
    assert result.exit_code == 1
    assert "note" not in result.stdout and result.stdout.startswith("reddit: ")
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert all(set(record) >= {"time", "level", "message"} for record in records)
    about = [record for record in records if "reddit" in record["message"] or "/rd/" in record["message"]
             or "down" in record["message"]]
    assert about and all(record.get("source") in ("reddit", "down") for record in about), about
    note = [record for record in records if record["level"] == "note"]
    assert note and note[0]["source"] == "reddit" and "r/gone: not read: " in note[0]["message"]
    requests = [record for record in records if record["message"].startswith("GET ")]
    assert {record["source"] for record in requests} == {"reddit", "down"}
    assert [record["source"] for record in records if record["level"] == "error"] == ["down"]


def test_the_daemons_log_example_has_the_shape_of_the_real_lines():
    section = README.split("### `trendbot run`: the daemon", 1)[1].split("\n### ", 1)[0]
    lines = [line for block in section.split("```")[1::2] for line in block.splitlines()
             if line.startswith("2026-")]
    assert len(lines) == 4, section
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST INFO trendbot\.daemon: "
    local = r"\d{4}-\d\d-\d\d \d\d:\d\d KST"
    assert re.fullmatch(stamp + r"started: \d+ source\(s\) \(.*\), catch-up \d+ day\(s\), zone \S+, lock \S+", lines[0])
    assert re.fullmatch(stamp + rf"next publish: {local}, settle: {local}, week: \w\w\w {local}", lines[1])
    assert re.fullmatch(stamp + rf"fetch:\w+: ok in [0-9.]+s items=\d+ new=\d+ updated=\d+; next {local}", lines[2])
    assert re.fullmatch(stamp + rf"publish \S+: \w+ in [0-9.]+s stories=\d+ fetched=\d+ new=\d+ \(.*\); next {local}",
                        lines[3])


def test_the_quick_start_makes_a_folder_of_the_users_own_before_init():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    [line] = quick.split("```sh\n")[1].split("```")[0].splitlines()  # one command: the set-up
    commands = line.split(" && ")
    assert commands[0] == "pip install -e ."
    assert commands[1].startswith("mkdir -p ~/") and commands[2].startswith("cd ~/")
    assert commands[3] == "trendbot init" and commands[4].startswith("trendbot digest --date today --fetch")


def test_the_exit_status_claims_hold(project, run):
    section = command_line_section()
    assert "every problem of every configuration file is listed, each with its file and key" in section
    assert "`no sources in sources/ (trendbot init writes the defaults)`" in section
    result = run("fetch")
    assert result.exit_code == 2 and "no sources in sources/ (trendbot init writes the defaults)" in result.stderr
    project.add_source("a", kind="feed", url="ftp://a")
    project.add_source("b", kind="feed", every="3x", url="https://b.example.org/feed")
    result = run("fetch")
    assert result.exit_code == 2
    assert "sources/a.toml: url: " in result.stderr and "sources/b.toml: every: " in result.stderr
