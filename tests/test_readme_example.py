"""The README's opening example is what trendbot writes for the recorded Hugging Face day.

The day is the real Daily Papers answer of 2026-06-12 (tests/data/hf/), fetched through the CLI
from a local server and rendered by `trendbot digest`. With the default summarizer the lines
must be the README's, byte for byte. For the `openai` summarizer a local server plays Ollama and
answers with the README's Korean sentences, using the README's own `[summarizer]` table: the
sentences are the model's, everything around them is trendbot's.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from werkzeug import Request, Response

from conftest import read_data
from test_summarize import completion

README = Path(__file__).parent.parent / "README.md"
DAY = "2026-06-12"


def opening() -> str:
    text = README.read_text(encoding="utf-8")
    return text[:text.index("## Quick start")]


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.S | re.M)


def list_lines(block: str) -> list[str]:
    return [line for line in block.splitlines() if line.startswith("- ")]


def fetch_and_render(project, run, httpserver) -> list[str]:
    httpserver.expect_request("/api/daily_papers").respond_with_data(
        read_data(f"hf/api_{DAY}.json"), content_type="application/json")
    project.add_source("huggingface", kind="hf_papers", base_url=httpserver.url_for("/").rstrip("/"))
    assert run("fetch", "--date", DAY).exit_code == 0
    result = run("digest", "--date", DAY, "--out", "-")
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_opening_example_is_what_the_default_summarizer_writes(project, run, httpserver):
    default, _ = fenced(opening(), "markdown")
    shown = list_lines(default)
    assert len(shown) == 2 and default.startswith("### 데일리 트렌드 {#daily-trends-2026-06-12}\n\n")
    rendered = fetch_and_render(project, run, httpserver)
    assert rendered[0] == "### 데일리 트렌드 {#daily-trends-2026-06-12}"
    assert list_lines("\n".join(rendered))[:2] == shown


def test_opening_example_in_korean_is_what_the_openai_summarizer_writes(project, run, httpserver):
    default, korean = fenced(opening(), "markdown")
    [table] = fenced(opening(), "toml")
    summarizer = tomllib.loads(table)["summarizer"]
    assert summarizer == {"kind": "openai", "base_url": "http://localhost:11434/v1", "model": "qwen2.5:7b"}
    shown = list_lines(korean)
    # each story's title, as the model reads it, and the sentence the README shows for it
    answers = {re.match(r"- \[(.*?)\]", line).group(1): line.split(" — ", 1)[1].rsplit(" · HF", 1)[0]
               for line in shown}

    def model(request: Request) -> Response:
        asked = request.get_json()["messages"][1]["content"]
        said = [sentence for title, sentence in answers.items() if title in asked]
        return Response(json.dumps(completion(said[0] if said else "관련 연구를 소개함.")),
                        content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(model)
    project.write_config(summarizer={**summarizer, "base_url": httpserver.url_for("/v1")})
    rendered = fetch_and_render(project, run, httpserver)
    assert list_lines("\n".join(rendered))[:2] == shown
    # the same stories, links and upvotes as the default example; only the summaries differ
    assert [line.split(" — ")[0] for line in shown] == [line.split(" — ")[0] for line in list_lines(default)]


def test_the_command_line_summary_names_only_real_commands_and_options():
    """Every line of the README's command summary runs: its command exists and has its options."""
    from trendbot.cli import cli

    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Command line"):]
    summary = section[section.index("```\n") + 4:section.index("\n```", section.index("```\n"))]
    seen = set()
    for line in summary.splitlines():
        words = line.split()
        assert words[0] == "trendbot" and words[1] in cli.commands, line
        command = cli.commands[words[1]]
        known = {opt for param in command.params for opt in param.opts}
        for option in re.findall(r"--[a-z-]+", line):
            assert option in known, (line, option)
        seen.add(words[1])
    assert seen == set(cli.commands)
    for option in ("--config", "--db", "-v", "-q", "--json-logs"):
        assert f"`{option}" in section and option in {opt for param in cli.params for opt in param.opts}
