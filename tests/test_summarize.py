"""Summaries: extractive offline, or one Korean sentence from a chat-completions server.

The model is played by a local server speaking the OpenAI chat-completions protocol; the
digest is rendered by the real CLI from items stored in the real database.
"""

from __future__ import annotations

import json
import time

from werkzeug import Response

from conftest import stored
from test_merge import PAPER, PAPER_TOPIC, PAPER_TWEET, hf_item, store_items
from trendbot.store import Store
from trendbot.summarize import extractive_summary, sentence_from_answer

SECRET = "sk-test-do-not-log-4b1d"
KOREAN = "LLM이 프롬프트만으로 제로샷 오류를 고치는 능력은 제한적이라는 분석임."
HF_LINE = ("Large language models exhibit limited ability to correct zero-shot errors through prompting, "
           "with model performance more strongly linked to definition-specific familiarity than text-level "
           "memorization metrics.")


def completion(content: str) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "test-model",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]}


def setup(project, httpserver, monkeypatch, **summarizer):
    monkeypatch.setenv("TRENDBOT_TEST_KEY", SECRET)
    project.write_config(summarizer={"kind": "openai", "base_url": httpserver.url_for("/v1"), "model": "test-model",
                                     "api_key_env": "TRENDBOT_TEST_KEY", "timeout": "1s", "max_chars": 400,
                                     **summarizer})
    with Store(project.db_path) as store:
        store_items(store, [hf_item(PAPER), PAPER_TWEET, PAPER_TOPIC])


def digest(run):
    result = run("digest", "--date", "2026-06-12", "--out", "-")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("- ")]
    assert len(lines) == 1
    return lines[0], result


def as_stored(item) -> object:
    fields = item.model_dump(include={"source", "kind", "url", "title", "text", "summary", "popularity", "extra"})
    return stored(**fields)


def test_extractive_uses_hf_ai_summary_then_first_sentence():
    paper = as_stored(hf_item(PAPER))
    assert extractive_summary([paper], 400) == HF_LINE
    no_ai = as_stored(hf_item(PAPER, summary=None))
    assert extractive_summary([no_ai], 400).startswith("Large Language Models (LLMs) are increasingly used for zero-shot annotation")
    korean = stored(title="t", text="GeekNews 요약입니다. 둘째 문장은 나오지 않습니다.")
    assert extractive_summary([korean], 160) == "GeekNews 요약입니다."
    cut = extractive_summary([paper], 60)
    assert len(cut) <= 60 and cut.endswith("…") and HF_LINE.startswith(cut[:-1].rstrip())
    assert HF_LINE[len(cut) - 1] in " ,"  # the cut falls between two words


def test_a_summary_that_repeats_the_title_is_no_summary():
    title = "Vision-Language Models: A Survey | Part 1"
    assert extractive_summary([stored(title=title, summary=title + ".")], 300) == ""
    # the next candidate, the text, is taken when it says more
    item = stored(title=title, summary=title + ".", text="We survey 120 models and their benchmarks. More.")
    assert extractive_summary([item], 300) == "We survey 120 models and their benchmarks."


def test_html_in_a_sources_summary_is_text_before_the_first_sentence_is_taken():
    item = stored(title="t", summary="<ul><li><p>첫 문장입니다. 둘째 문장.</p></li><li>다음</li></ul>")
    assert extractive_summary([item], 300) == "첫 문장입니다."


def test_a_typical_hf_one_sentence_summary_fits_whole_under_the_default():
    from trendbot.config import SummarizerConfig

    assert extractive_summary([as_stored(hf_item(PAPER))], SummarizerConfig().max_chars) == HF_LINE


def test_extractive_is_the_default_and_sends_nothing(project, run, httpserver):
    with Store(project.db_path) as store:
        store_items(store, [hf_item(PAPER), PAPER_TWEET, PAPER_TOPIC])
    line, _ = digest(run)
    assert "Large language models exhibit limited ability to correct zero-shot errors" in line
    assert httpserver.log == []


def test_model_writes_the_line_once_and_the_cache_answers_after(project, run, httpserver, monkeypatch):
    setup(project, httpserver, monkeypatch)
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(completion(f'"{KOREAN}"'))
    line, _ = digest(run)
    assert f" — {KOREAN} · HF ▲0 · " in line
    request = httpserver.log[0][0]
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    body = request.get_json()
    assert body["model"] == "test-model" and body["messages"][0]["role"] == "system"
    assert "On the Limits of LLM Adaptability" in body["messages"][1]["content"]
    again, _ = digest(run)
    assert again == line
    assert len(httpserver.log) == 1  # the second digest was answered from the store


def test_server_error_falls_back_without_showing_the_key(project, run, httpserver, monkeypatch):
    setup(project, httpserver, monkeypatch)
    httpserver.expect_request("/v1/chat/completions").respond_with_data("boom", status=500)
    line, result = digest(run)
    assert HF_LINE[:60] in line
    assert "HTTP 500" in result.stderr and "extractive" in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_timeout_falls_back(project, run, httpserver, monkeypatch):
    setup(project, httpserver, monkeypatch, timeout="300ms")

    def slow(request):
        time.sleep(1.0)
        return Response(json.dumps(completion(KOREAN)), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(slow)
    line, result = digest(run)
    assert HF_LINE[:60] in line and KOREAN not in line
    assert "no answer within 0.3s" in result.stderr


def test_garbage_answers_fall_back(project, run, httpserver, monkeypatch):
    setup(project, httpserver, monkeypatch)
    answers = iter([Response("<html>not json</html>", content_type="text/html"),
                    Response(json.dumps({"choices": []}), content_type="application/json"),
                    Response(json.dumps(completion("Sure! Here is a summary in English.")), content_type="application/json")])
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(lambda request: next(answers))
    for _ in range(3):
        line, result = digest(run)
        assert HF_LINE[:60] in line
        assert "not one usable sentence" in result.stderr
    with Store(project.db_path) as store:
        assert store.db.execute("select count(*) from summaries").fetchone()[0] == 0  # nothing unusable is cached


def test_sentence_from_answer_takes_one_clean_line():
    assert sentence_from_answer(completion(f"- **{KOREAN}**\n\n설명: 둘째 줄"), "ko", 400) == KOREAN
    assert sentence_from_answer(completion("A fine English line about the paper."), "en", 400) == \
        "A fine English line about the paper."
    assert sentence_from_answer(completion("짧음"), "ko", 400) is None
    assert sentence_from_answer({"choices": [{"message": {"content": None}}]}, "ko", 400) is None
    assert sentence_from_answer("nonsense", "ko", 400) is None


def test_max_stories_limits_requests(project, run, httpserver, monkeypatch):
    setup(project, httpserver, monkeypatch, max_stories=0)
    line, _ = digest(run)
    assert HF_LINE[:60] in line and httpserver.log == []
