"""Summaries: extractive offline, or one Korean sentence from a chat-completions server.

The model is played by a local server speaking the OpenAI chat-completions protocol; the
digest is rendered by the real CLI from items stored in the real database.
"""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug import Response

from conftest import read_data, stored
from test_merge import PAPER, PAPER_TOPIC, PAPER_TWEET, hf_item, store_items
from trendbot.store import Store
from trendbot.summarize import extractive_summary, pieces, says_something, sentence_from_answer
from trendbot.text import clean

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


# -- summaries that say something: boilerplate first sentences ---------------------------------

def served_hf_day(project, run, httpserver, name: str) -> list[str]:
    """The digest lines of the recorded HF day `name`, fetched and rendered by the real CLI."""
    httpserver.expect_request("/api/daily_papers").respond_with_data(read_data(f"hf/{name}"),
                                                                     content_type="application/json")
    project.add_source("huggingface", kind="hf_papers", base_url=httpserver.url_for("/").rstrip("/"))
    assert run("fetch", "--date", "2026-06-12").exit_code == 0
    result = run("digest", "--date", "2026-06-12", "--out", "-")
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line.startswith("- ")]


def summary_of(lines: list[str], link: str) -> str:
    [line] = [line for line in lines if f"]({link})" in line]
    return line.split(" — ", 1)[1].rsplit(" · ", 1)[0] if " — " in line else ""


def test_abstracts_opening_with_a_venue_note_or_a_link_are_summarized_by_their_first_real_sentence(
        project, run, httpserver):
    lines = served_hf_day(project, run, httpserver, "api_2026-06-12_boilerplate_first.json")
    assert summary_of(lines, "https://huggingface.co/papers/2606.12488") == (
        "Learning compatible representations aims to learn feature representations that can be used "
        "interchangeably over time whenever a model undergoes updates.")
    assert summary_of(lines, "https://huggingface.co/papers/2606.12303") == (
        "Multimodal image fusion aims to integrate complementary information from different modalities into a "
        "fused image that preserves rich local details while maintaining globally consistent appearance.")
    assert summary_of(lines, "https://huggingface.co/papers/2606.12243") == (
        "Speculative decoding (SD) addresses the high inference costs of LLMs by having lightweight drafters "
        "generate candidates for large verifiers to validate in parallel.")
    page = "\n".join(lines)
    assert "Accepted at" not in page and "Project page" not in page and "Code at" not in page


def served_geeknews_day(project, run, httpserver) -> list[str]:
    httpserver.expect_request("/rss/news").respond_with_data(read_data("geeknews/rss_news_2026-09-29.xml"),
                                                             content_type="application/atom+xml")
    project.add_source("gn", kind="geeknews", base_url=httpserver.url_for("/").rstrip("/"), max_enrich=0)
    project.write_config(digest={"limit": 60})
    assert run("fetch").exit_code == 0
    result = run("digest", "--date", "2026-09-29", "--out", "-")
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line.startswith("- ")]


def test_geeknews_topics_opening_with_a_greeting_or_a_heading_are_summarized_by_what_follows(
        project, run, httpserver):
    lines = served_geeknews_day(project, run, httpserver)
    erd = summary_of(lines, "https://news.hada.io/topic?id=34484")
    assert erd.startswith("데이터베이스 스키마를 설계할 때 최대한 friction 없이") and erd.endswith("이 웹사이트를 만들었습니다.")
    assert summary_of(lines, "https://news.hada.io/topic?id=34472") == "RAG 지식베이스나 에이전트 메모리는 계속 덮어써짐."
    page = "\n".join(lines)
    assert "안녕하세요" not in page and "현시점의 문제" not in page
    # a topic whose first line already says what it is keeps it
    assert summary_of(lines, "https://news.hada.io/topic?id=34474") == \
        "Meta Research의 Vegard Mella 주도 팀이 개발한 스타크래프트: 브루드 워 AI"


def test_a_text_of_nothing_but_boilerplate_has_no_summary_rather_than_filler():
    item = stored(title="VIA-SD", text="Accepted at ICML 2026. Project page: https://zju-xyc.github.io/VIA-SD-Project-Page/")
    assert extractive_summary([item], 300) == ""
    assert extractive_summary([stored(title="t", summary="안녕하세요.", text="현시점의 문제")], 300) == ""


@pytest.mark.parametrize("piece, verdict", [
    ("Accepted at ICML 2026.", False),
    ("Accepted to NeurIPS 2025 (Spotlight).", False),
    ("To appear in ACL 2025.", False),
    ("NeurIPS 2025 Datasets and Benchmarks Track.", False),
    ("This paper has been accepted at the main conference.", False),
    ("Code: https://github.com/miccunifi/iamcl2r.", False),
    ("Project page: https://zju-xyc.github.io/1D-Fusion-Project-Page/", False),
    ("Repo: github.com/YujunZhou/tellonce", False),
    ("Code is available at https://github.com/jqtangust/Robust-U1.", False),
    ("Hello everyone!", False),
    ("소울라이크 게임", False),
    ("Technical report.", False),
    ("안녕하세요.", False),
    ("Hi HN,", False),
    ("현시점의 문제", False),
    ("Claude Sonnet 5.5 출시", False),
    ("Work in progress.", False),
    ("Accepted wisdom says that scale is all you need.", True),
    ("We present Flash-GMM, a fused Triton kernel.", True),
    ("Introducing Gemma 4, our most capable open model.", True),
    ("Large Language Models (LLMs) suffer from hallucinations.", True),
    ("2D 소울라이크 게임입니다.", True),
    ("RAG 지식베이스나 에이전트 메모리는 계속 덮어써짐.", True),
    ("클라우드 API 대신 사용자의 기기에서 AI 모델을 실행해, 앱과 게임에 기능을 넣는 오픈소스 추론 엔진", True),
    # a longer phrase without a verb still describes its thing, as GitHub descriptions are written
    ("Incredibly fast JavaScript runtime, bundler, test runner, and package manager – all in one", True),
    ("A long post about memory for agents.", True),
    ("딥러닝 기반 2D 횡스크롤 소울라이크 게임", True),
])
def test_what_says_something(piece, verdict):
    assert says_something(piece) is verdict


def test_a_greeting_or_a_label_and_link_is_split_from_the_sentence_it_opens():
    assert pieces("Hi HN, I built a tool that reads papers.") == ["Hi HN,", "I built a tool that reads papers."]
    assert pieces("안녕하세요, 저는 ERD 편집기를 만들었습니다.") == ["안녕하세요,", "저는 ERD 편집기를 만들었습니다."]
    assert pieces("Project page: https://zju-xyc.github.io/x/ Multimodal fusion is hard.") == \
        ["Project page: https://zju-xyc.github.io/x/", "Multimodal fusion is hard."]
    assert extractive_summary([stored(title="t", text="Hi HN, I built a tool that reads papers.")], 300) == \
        "I built a tool that reads papers."


REAL_SENTENCES = [
    "Learning compatible representations aims to learn feature representations that can be used interchangeably.",
    "Speculative decoding (SD) addresses the high inference costs of LLMs.",
    "데이터베이스 스키마를 설계할 때 쉽게 테이블 필드를 추가하는 ERD 툴을 만들었습니다.",
    "RAG 지식베이스나 에이전트 메모리는 계속 덮어써짐.",
]
BOILERPLATE = ["Accepted at ICML 2026.", "Code: https://github.com/miccunifi/iamcl2r.", "안녕하세요.", "현시점의 문제",
               "Project page: https://zju-xyc.github.io/VIA-SD-Project-Page/", "Hi HN,", "NeurIPS 2025 (Spotlight)."]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(REAL_SENTENCES + BOILERPLATE) | st.text(max_size=40), max_size=8))
def test_the_summary_is_always_a_piece_of_the_text_and_the_pieces_are_the_whole_text(parts):
    text = " ".join(parts)
    found = pieces(text)
    assert "".join(found).replace(" ", "") == clean(text).replace(" ", "")
    summary = extractive_summary([stored(title="t", text=text)], 10_000)
    assert summary == "" or summary in found
    if summary:
        assert all(not says_something(piece) for piece in found[:found.index(summary)])
    # a heading without a sentence end runs into what follows it: only sentences stay apart
    if all(part in BOILERPLATE and part != "현시점의 문제" or not part.strip() for part in parts):
        assert summary == ""
